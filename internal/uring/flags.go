package uring

// Completion flags (IORING_CQE_F_*), as found in CQE.Flags.
const (
	// FlagBuffer: the upper 16 bits of the flags name the provided buffer
	// holding the bytes.
	FlagBuffer = 1 << 0
	// FlagMore: the request stays armed and will post more completions.
	FlagMore = 1 << 1
	// FlagSockNonempty: the socket had more data after this receive.
	FlagSockNonempty = 1 << 2
	// FlagBufMore: the receive used only part of its provided buffer,
	// which the kernel keeps for the next receives (a buffer ring with
	// incremental consumption, Linux 6.12).
	FlagBufMore = 1 << 4

	cqeBufferShift = 16
)

// Feature bits (IORING_FEAT_*) as found in Probe.Features.
const (
	FeatSingleMmap     = 1 << 0
	FeatNoDrop         = 1 << 1
	FeatSubmitStable   = 1 << 2
	FeatFastPoll       = 1 << 5
	FeatExtArg         = 1 << 8
	FeatNativeWorkers  = 1 << 9
	FeatCQESkip        = 1 << 11
	FeatRecvSendBundle = 1 << 14
)
