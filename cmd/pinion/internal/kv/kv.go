package kv

import (
	"errors"
	"hash/maphash"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/pinion-net/pinion/codec"
)

// kvShards is how many shards a Store has: enough that the loops (and
// the connection goroutines of the goroutine model) rarely want the same
// lock at the same time. A power of two, so a hash picks one with a mask.
const kvShards = 256

// The active expiry sweep, modelled on Redis's: every kvSweepEvery it
// visits kvSweepShards shards, round robin, and in each samples up to
// kvSweepSample keys that have a deadline, deleting the expired ones. While
// more than a quarter of a sample had expired it samples that shard again,
// at most kvSweepRounds times. So one sweep checks at most
// kvSweepShards*kvSweepSample*kvSweepRounds keys, and holds one shard's
// lock for at most kvSweepSample of them at a time.
const (
	kvSweepEvery  = 100 * time.Millisecond
	kvSweepShards = 32
	kvSweepSample = 20
	kvSweepRounds = 4
)

// The errors of Store.IncrBy, in Redis's words.
var (
	ErrNotInteger = errors.New("ERR value is not an integer or out of range")
	ErrOverflow   = errors.New("ERR increment or decrement would overflow")
)

// Store is the key-value store behind -proto resp: one per server,
// shared by every loop or connection goroutine. It is safe for concurrent
// use. Keys live in kvShards shards, picked by a seeded hash of the key,
// each with its own lock.
//
// Every operation takes now, the caller's clock in Unix nanoseconds: a key
// whose deadline is at or before now is gone (lazy expiry, as Redis does),
// and the first operation to notice deletes it. The sweeper goroutine,
// started by New and stopped by Close, deletes expired keys nobody asks
// for (active expiry).
type Store struct {
	seed   maphash.Seed
	shards [kvShards]kvShard
	clock  func() int64 // the sweeper's clock, Unix nanoseconds

	cursor    int           // the next shard to sweep; only the sweeper touches it
	stop      chan struct{} // closed by Close
	done      chan struct{} // closed when the sweeper has returned
	closeOnce sync.Once
}

// kvShard is one lock's worth of the store. Its fields are guarded by mu.
//
// Invariant: a key is in expires exactly when it is in m with a non-zero
// expireAt, and both maps then hold the same *kvEntry.
type kvShard struct {
	mu      sync.Mutex
	m       map[string]*kvEntry
	expires map[string]*kvEntry // the keys with a deadline: what the sweeper samples
	_       [40]byte            // pads the shard to a cache line, so neighbours' locks do not share one
}

// kvEntry is one key's value. It is reached through a pointer so that an
// overwrite or an INCR updates it in place, without a map assignment (which
// would allocate the key string again).
type kvEntry struct {
	val      []byte // owned by the store, never by a read buffer
	expireAt int64  // Unix nanoseconds; 0: no deadline
}

// New returns an empty store and starts its sweeper, which uses clock
// (nil: the wall clock). Close stops it.
func New(clock func() int64) *Store {
	if clock == nil {
		clock = func() int64 { return time.Now().UnixNano() }
	}
	s := &Store{
		seed:  maphash.MakeSeed(),
		clock: clock,
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	for i := range s.shards {
		s.shards[i].m = make(map[string]*kvEntry)
		s.shards[i].expires = make(map[string]*kvEntry)
	}
	go s.sweeper()
	return s
}

// Close stops the sweeper and waits for it to return. The store still
// works afterwards, with lazy expiry only. Close may be called many times.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.stop) })
	<-s.done
	return nil
}

// shard returns the shard of key.
func (s *Store) shard(key []byte) *kvShard {
	return &s.shards[maphash.Bytes(s.seed, key)&(kvShards-1)]
}

// live returns key's entry unless it is missing or expired at now; an
// expired one is deleted. The caller holds sh.mu.
func (sh *kvShard) live(key []byte, now int64) *kvEntry {
	e := sh.m[string(key)]
	if e == nil || e.expireAt == 0 || e.expireAt > now {
		return e
	}
	delete(sh.m, string(key))
	delete(sh.expires, string(key))
	return nil
}

// setDeadline gives e, stored under key, the deadline at (0: none),
// keeping expires in step. The caller holds sh.mu.
func (sh *kvShard) setDeadline(key []byte, e *kvEntry, at int64) {
	switch {
	case at != 0 && e.expireAt == 0:
		sh.expires[string(key)] = e
	case at == 0 && e.expireAt != 0:
		delete(sh.expires, string(key))
	}
	e.expireAt = at
}

// insert adds a new key. The caller holds sh.mu and knows key is absent.
func (sh *kvShard) insert(key []byte, e *kvEntry) {
	k := string(key) // one copy, shared by both maps
	sh.m[k] = e
	if e.expireAt != 0 {
		sh.expires[k] = e
	}
}

// AppendGet appends key's value to dst as a RESP bulk string and reports
// true, or leaves dst as it is and reports false when key is missing. The
// value is copied under the shard's lock, so an overwrite in place cannot
// tear it.
func (s *Store) AppendGet(dst, key []byte, now int64) ([]byte, bool) {
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.live(key, now)
	if e == nil {
		return dst, false
	}
	return codec.AppendBulk(dst, e.val), true
}

// SetMode holds SET's conditions.
type SetMode struct {
	NX, XX  bool // only when the key is missing (NX) or present (XX)
	KeepTTL bool // an overwrite keeps the key's deadline (expireAt is ignored)
}

// Set stores a copy of val under key with the deadline expireAt (0: none)
// unless mode's condition fails, and reports whether it stored. An
// overwrite with a value of about the same size reuses the old value's
// array; others allocate a new one, so a big array is not kept alive by a
// small value.
func (s *Store) Set(key, val []byte, expireAt int64, mode SetMode, now int64) bool {
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.live(key, now)
	if (mode.NX && e != nil) || (mode.XX && e == nil) {
		return false
	}
	if e == nil {
		sh.insert(key, &kvEntry{val: clone(val), expireAt: expireAt})
		return true
	}
	if c := cap(e.val); c >= len(val) && c <= 2*len(val)+32 {
		e.val = append(e.val[:0], val...)
	} else {
		e.val = clone(val)
	}
	if !mode.KeepTTL {
		sh.setDeadline(key, e, expireAt)
	}
	return true
}

// clone copies b into a new array; append rounds its capacity up to the
// allocator's size class, which later overwrites may reuse.
func clone(b []byte) []byte { return append([]byte(nil), b...) }

// Del deletes key and reports whether it was there.
func (s *Store) Del(key []byte, now int64) bool {
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.live(key, now) == nil {
		return false
	}
	delete(sh.m, string(key))
	delete(sh.expires, string(key))
	return true
}

// Exists reports whether key is there.
func (s *Store) Exists(key []byte, now int64) bool {
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.live(key, now) != nil
}

// IncrBy adds delta to the integer stored at key (a missing key counts as
// 0, and keeps no deadline) and returns the sum. It fails with
// ErrNotInteger when the value is not a canonical decimal int64, and with
// ErrOverflow when the sum would not fit; the value is unchanged then.
func (s *Store) IncrBy(key []byte, delta, now int64) (int64, error) {
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.live(key, now)
	var n int64
	if e != nil {
		var ok bool
		if n, ok = codec.ParseInt(e.val); !ok {
			return 0, ErrNotInteger
		}
	}
	if (delta > 0 && n > math.MaxInt64-delta) || (delta < 0 && n < math.MinInt64-delta) {
		return 0, ErrOverflow
	}
	n += delta
	if e == nil {
		sh.insert(key, &kvEntry{val: strconv.AppendInt(make([]byte, 0, 20), n, 10)})
		return n, nil
	}
	e.val = strconv.AppendInt(e.val[:0], n, 10)
	return n, nil
}

// Expire gives key the deadline at, or deletes it when at <= now, and
// reports whether key was there.
func (s *Store) Expire(key []byte, at, now int64) bool {
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.live(key, now)
	switch {
	case e == nil:
		return false
	case at <= now:
		delete(sh.m, string(key))
		delete(sh.expires, string(key))
	default:
		sh.setDeadline(key, e, at)
	}
	return true
}

// TTL returns the time key has left, in nanoseconds; found is false for a
// missing key and forever true for a key without a deadline.
func (s *Store) TTL(key []byte, now int64) (left int64, found, forever bool) {
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.live(key, now)
	switch {
	case e == nil:
		return 0, false, false
	case e.expireAt == 0:
		return 0, true, true
	}
	return e.expireAt - now, true, false
}

// Len returns the number of keys, counting expired ones not yet deleted,
// as Redis's DBSIZE does. Shards are counted one at a time, so under
// concurrent writes the sum is of no single instant.
func (s *Store) Len() int {
	total := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		total += len(sh.m)
		sh.mu.Unlock()
	}
	return total
}

// Flush deletes every key, one shard at a time. New maps let the old ones'
// memory go.
func (s *Store) Flush() {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		sh.m = make(map[string]*kvEntry)
		sh.expires = make(map[string]*kvEntry)
		sh.mu.Unlock()
	}
}

// sweeper runs sweep every kvSweepEvery until Close.
func (s *Store) sweeper() {
	defer close(s.done)
	t := time.NewTicker(kvSweepEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.sweep(s.clock())
		}
	}
}

// sweep is one round of active expiry at now (see kvSweepEvery) and
// returns how many keys it deleted. Only the sweeper goroutine calls it,
// or a test that started none.
func (s *Store) sweep(now int64) int {
	deleted := 0
	for range kvSweepShards {
		deleted += s.shards[s.cursor].sweep(now)
		s.cursor = (s.cursor + 1) & (kvShards - 1)
	}
	return deleted
}

// sweep samples the shard's keys with deadlines, deleting the expired, in
// up to kvSweepRounds rounds while more than a quarter of a sample had
// expired, and returns how many it deleted. Go starts each map iteration
// at a random place, which makes the first keys of a range a sample.
func (sh *kvShard) sweep(now int64) int {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	deleted := 0
	for range kvSweepRounds {
		seen, expired := 0, 0
		for k, e := range sh.expires {
			if seen == kvSweepSample {
				break
			}
			seen++
			if e.expireAt <= now {
				delete(sh.m, k)
				delete(sh.expires, k)
				expired++
			}
		}
		deleted += expired
		if expired*4 <= seen {
			break
		}
	}
	return deleted
}
