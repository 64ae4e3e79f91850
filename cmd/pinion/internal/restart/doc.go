// Package restart hands a running server's listening sockets to a new copy
// of its binary, for a restart that drops no connection.
//
// The old process (the parent) calls Upgrader.Spawn with its listening
// sockets, each under a name such as "tcp://127.0.0.1:9000#1" (address and
// loop). The new process (the child) gets them as inherited descriptors,
// finds them with Inherited, starts serving on them, and calls Ready. Only
// then does Spawn return, and the parent may stop accepting and drain. A
// child that exits, or is not ready within the timeout, is stopped and Spawn
// returns an error: the parent keeps serving.
//
// The child serves on the very sockets the parent listened on, not on new
// ones bound to the same port. So nothing waiting in an accept queue is lost
// when the parent closes its copies: the queue belongs to the socket, which
// lives on in the child. (A reuseport socket that is closed for good drops
// its queue; that is why the sockets are handed over rather than re-bound.)
//
// The protocol between the two is two environment variables: PINION_FDS
// lists the names of the descriptors from 3 on, separated by commas, and
// PINION_READY_FD names the write end of a pipe the child closes after
// writing one byte when it is ready.
package restart
