// parallel.go — the Go version of binary_trees_parallel: the same trees split over `threads`
// goroutines, with GOMAXPROCS set to the same number.
package main

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

func binaryTreesParallel(max, threads int) {
	if max < 6 {
		max = 6
	}
	if threads < 1 {
		threads = 1
	}
	runtime.GOMAXPROCS(threads)
	fmt.Printf("stretch tree of depth %d\t check: %d\n", max+1, bottomUp(max+1).check())
	long := bottomUp(max)
	sums := make([][]int, threads)
	var wg sync.WaitGroup
	for t := 0; t < threads; t++ {
		sums[t] = make([]int, max+1)
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			for d := 4; d <= max; d += 2 {
				it := 1 << (max - d + 4)
				from, to := it*id/threads, it*(id+1)/threads
				sum := 0
				for i := from; i < to; i++ {
					sum += bottomUp(d).check()
				}
				sums[id][d] = sum
			}
		}(t)
	}
	wg.Wait()
	for d := 4; d <= max; d += 2 {
		sum := 0
		for t := 0; t < threads; t++ {
			sum += sums[t][d]
		}
		fmt.Printf("%d\t trees of depth %d\t check: %d\n", 1<<(max-d+4), d, sum)
	}
	fmt.Printf("long lived tree of depth %d\t check: %d\n", max, long.check())
	fmt.Printf("threads: %d\n", threads)
	stretch, later := (2<<(max+1))-1, (2<<max)-1+threads*((2<<max)-1)
	if later > stretch {
		stretch = later
	}
	fmt.Printf("live: peak_mb=%.1f\n", float64(stretch)*float64(unsafe.Sizeof(node{}))/1048576)
}
