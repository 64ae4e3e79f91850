package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pinion-net/pinion/engine"
)

// ErrBadChange is wrapped by the refusals of a malformed limits change.
var ErrBadChange = errors.New("admin: limits change refused")

// EngineLimits returns a Config.Limits for an engine and the server's log
// level. A change names some of serve's flags: max-conns (negative: no
// bound), idle-timeout and slow-callback (durations; 0 or negative: off),
// offload-policy (pause or reject) and log-level (debug, info, warn or
// error). Every value is parsed and the whole set validated before
// anything changes: one bad value refuses the change whole.
func EngineLimits(e *engine.Engine, level *slog.LevelVar) func(ctx context.Context, change map[string]string) (map[string]string, error) {
	return func(ctx context.Context, change map[string]string) (map[string]string, error) {
		lim, lvl := e.Limits(), level.Level()
		var errs []error
		keys := make([]string, 0, len(change))
		for k := range change {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := apply(&lim, &lvl, k, change[k]); err != nil {
				errs = append(errs, err)
			}
		}
		if err := errors.Join(errs...); err != nil {
			return nil, fmt.Errorf("%w, nothing changed: %w", ErrBadChange, err)
		}
		if len(change) > 0 {
			if err := lim.Validate(); err != nil {
				return nil, fmt.Errorf("%w, nothing changed: %w", ErrBadChange, err)
			}
			if err := e.SetLimits(ctx, lim); err != nil {
				return nil, fmt.Errorf("admin: limits: %w", err)
			}
			level.Set(lvl)
		}
		return describe(e.Limits(), level.Level()), nil
	}
}

// apply parses one flag of a change into lim or lvl.
func apply(lim *engine.Limits, lvl *slog.Level, key, v string) error {
	bad := func(err error) error { return fmt.Errorf("%s=%q: %w", key, v, err) }
	offIfNotPositive := func(d time.Duration) time.Duration {
		if d <= 0 {
			return -1
		}
		return d
	}
	switch key {
	case "max-conns":
		n, err := strconv.Atoi(v)
		if err != nil {
			return bad(err)
		}
		if n == 0 {
			return bad(errors.New("0 would refuse every connection; negative means no bound"))
		}
		lim.MaxConns = n
	case "idle-timeout", "slow-callback":
		d, err := time.ParseDuration(v)
		if err != nil {
			return bad(err)
		}
		if key == "idle-timeout" {
			lim.IdleTimeout = offIfNotPositive(d)
		} else {
			lim.SlowCallback = offIfNotPositive(d)
		}
	case "offload-policy":
		if v != "pause" && v != "reject" {
			return bad(errors.New("want pause or reject"))
		}
		p, err := engine.ParseOffloadPolicy(v)
		if err != nil {
			return bad(err)
		}
		lim.OffloadPolicy = p
	case "log-level":
		if err := lvl.UnmarshalText([]byte(v)); err != nil {
			return bad(errors.New("want debug, info, warn or error"))
		}
	default:
		return fmt.Errorf("unknown limit %q (want max-conns, idle-timeout, slow-callback, offload-policy or log-level)", key)
	}
	return nil
}

// describe returns the limits as serve's flags would spell them.
func describe(lim engine.Limits, lvl slog.Level) map[string]string {
	dur := func(d time.Duration) string {
		if d <= 0 {
			return "0"
		}
		return d.String()
	}
	policy := "pause"
	if lim.OffloadPolicy == engine.OffloadReject {
		policy = "reject"
	}
	return map[string]string{
		"max-conns":      strconv.Itoa(lim.MaxConns),
		"idle-timeout":   dur(lim.IdleTimeout),
		"slow-callback":  dur(lim.SlowCallback),
		"offload-policy": policy,
		"log-level":      strings.ToLower(lvl.String()),
	}
}
