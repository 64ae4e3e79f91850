package engine

// ForceRingUnavailable makes ring setups fail as if the kernel refused
// io_uring (tests of the fallback); it returns the previous setting.
func ForceRingUnavailable(on bool) bool { return forceRingUnavailable.Swap(on) }
