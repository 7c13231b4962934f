// shrink.go — the Go version of bench/shrink.c: grow to liveMB MiB of small linked objects,
// drop all but smallMB MiB, keep allocating short-lived objects; resident memory over time.
package main

import (
	"fmt"
	"os"
	"runtime"
	"time"
	"unsafe"
)

func rssMB() float64 {
	var size, resident uint64
	f, err := os.Open("/proc/self/statm")
	if err != nil {
		return 0
	}
	defer f.Close()
	if _, err := fmt.Fscan(f, &size, &resident); err != nil {
		return 0
	}
	return float64(resident) * 4096 / 1048576
}

func shrink(liveMB, smallMB, batches int) {
	const lists, churn = 1024, 20000
	size := int(unsafe.Sizeof(cell{}))
	perList := liveMB * 1048576 / size / lists
	keep := lists * smallMB / liveMB
	t0 := time.Now()
	heads := make([]*cell, lists)
	for l := range heads {
		for i := 0; i < perList; i++ {
			heads[l] = &cell{heads[l], int64(i)}
		}
	}
	fmt.Printf("rss: t_s=%.3f mb=%.1f grown\n", time.Since(t0).Seconds(), rssMB())
	for l := keep; l < lists; l++ {
		heads[l] = nil
	}
	sum := uint64(0)
	for b := 0; b < batches; b++ {
		var chain *cell
		for i := 0; i < churn; i++ {
			chain = &cell{chain, int64(i)}
			if i%1000 == 999 {
				for c := chain; c != nil; c = c.next {
					sum += uint64(c.value)
				}
				chain = nil
			}
		}
		if b%10 == 9 {
			fmt.Printf("rss: t_s=%.3f mb=%.1f\n", time.Since(t0).Seconds(), rssMB())
		}
	}
	fmt.Printf("after_shrink: rss_mb=%.1f live_mb=%.1f (checksum %d)\n", rssMB(),
		float64(keep*perList*size+lists*8)/1048576, sum)
	fmt.Printf("live: peak_mb=%.1f\n", float64((lists*perList+1000)*size+lists*8)/1048576)
	runtime.KeepAlive(heads)
}
