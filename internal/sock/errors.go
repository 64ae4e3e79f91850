package sock

import "errors"

// ErrUnsupported is returned by the socket functions on platforms that have
// neither epoll nor kqueue, where the engine cannot run.
var ErrUnsupported = errors.New("sock: not supported on this platform")
