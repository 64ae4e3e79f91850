module github.com/pinion-net/pinion/bench

go 1.26

replace github.com/pinion-net/pinion => ../
