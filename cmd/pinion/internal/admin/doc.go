// Package admin is the control plane of pinion serve: an HTTP server on
// goroutines of its own, never on an event loop, that serves
//
//	GET /metrics        the engine's Prometheus metrics and the process's
//	GET /healthz        200 while the process serves
//	GET /readyz         200 once every listener is up; 503 before, and from
//	                    the first instant of a drain or shutdown
//	GET /debug/loops    a JSON snapshot per event loop
//	GET /debug/pprof/   the runtime's profiles
//	GET, PUT /limits    the runtime limits, and changing them
//	                    (docs/adr/0013-runtime-limits.md)
//
// It reads only published snapshots and changes loop state only through
// the engine, which posts the change to each loop. It has its own
// timeouts and a bound on its connections, so a slow or greedy client of
// the admin address cannot exhaust the process.
package admin
