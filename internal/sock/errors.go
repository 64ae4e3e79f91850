package sock

import "errors"

// ErrUnsupported is returned by the socket functions on platforms that have
// neither epoll nor kqueue, where the engine cannot run.
var ErrUnsupported = errors.New("sock: not supported on this platform")

// ErrNotListener is wrapped by the errors of CheckListener: the fd handed
// over is not a listening stream socket the loops can serve.
var ErrNotListener = errors.New("not a listening stream socket")
