// pauses.go — the summary line every collected variant prints, from Go's own GC statistics
// (debug.ReadGCStats keeps the most recent pauses; the quantiles are over those).
package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sort"
	"time"
)

func reportPauses() {
	var s debug.GCStats
	debug.ReadGCStats(&s)
	p := append([]time.Duration(nil), s.Pause...)
	sort.Slice(p, func(i, j int) bool { return p[i] < p[j] })
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	if len(p) == 0 {
		fmt.Println("pauses: n=0 p50_us=0.0 p99_us=0.0 max_us=0.0")
		return
	}
	n := len(p)
	fmt.Printf("pauses: n=%d p50_us=%.1f p99_us=%.1f max_us=%.1f\n", s.NumGC, us(p[(n-1)/2]), us(p[(n*99+99)/100-1]), us(p[n-1]))
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	fmt.Printf("gc: cycles=%d gc_cpu_fraction=%.3f\n", m.NumGC, m.GCCPUFraction)
}
