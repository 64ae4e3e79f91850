package uring

// Op names the operation a completion belongs to. It is stored in the top 8
// bits of the token.
type Op uint8

// The operations a Ring prepares. Their values are part of the token layout.
const (
	OpNop      Op = 1
	OpAccept   Op = 2
	OpRecv     Op = 3
	OpSend     Op = 4
	OpClose    Op = 5
	OpCancel   Op = 6
	OpShutdown Op = 7
	OpPoll     Op = 8

	// opSelfTest and opWake mark the ring's own requests; Reap never returns
	// them.
	opSelfTest Op = 0xFE
	opWake     Op = 0xFF
)

// String returns the operation's name.
func (o Op) String() string {
	switch o {
	case OpNop:
		return "nop"
	case OpAccept:
		return "accept"
	case OpRecv:
		return "recv"
	case OpSend:
		return "send"
	case OpClose:
		return "close"
	case OpCancel:
		return "cancel"
	case OpShutdown:
		return "shutdown"
	case OpPoll:
		return "poll"
	case opSelfTest:
		return "self-test"
	case opWake:
		return "wake"
	}
	return "op(?)"
}

// Token is what a submission carries in user_data and its completion brings
// back: bits 0–31 the file descriptor, bits 32–55 a generation, bits 56–63 the
// Op.
type Token uint64

const (
	genBits = 24
	genMask = 1<<genBits - 1
	opShift = 32 + genBits
)

// NewToken returns a token for fd with generation gen. Only the low 24 bits of
// gen are kept, so a generation counter wraps after 16,777,216 reuses of one
// fd number. The operation is filled in by the method that prepares the entry.
func NewToken(fd int, gen uint32) Token {
	return Token(uint32(fd)) | Token(gen&genMask)<<32
}

// with returns t with its operation replaced by op.
func (t Token) with(op Op) Token {
	return t&^(0xFF<<opShift) | Token(op)<<opShift
}

// With returns t with its operation replaced by op: the token a request
// prepared with t carries, for CancelToken.
func (t Token) With(op Op) Token { return t.with(op) }

// FD returns the file descriptor in t.
func (t Token) FD() int { return int(int32(uint32(t))) }

// Gen returns the 24-bit generation in t.
func (t Token) Gen() uint32 { return uint32(t>>32) & genMask }

// Op returns the operation in t.
func (t Token) Op() Op { return Op(t >> opShift) }

// Key returns t without its operation: the fd and generation, which name one
// owner of one fd.
func (t Token) Key() Token { return t &^ (0xFF << opShift) }
