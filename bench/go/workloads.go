// workloads.go — Go versions of binary_trees, gcbench, latency, barrier and two_mutator.
package main

import (
	"fmt"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

type node struct{ left, right *node }

func bottomUp(d int) *node {
	if d == 0 {
		return &node{}
	}
	return &node{bottomUp(d - 1), bottomUp(d - 1)}
}

func (n *node) check() int {
	if n.left == nil {
		return 1
	}
	return 1 + n.left.check() + n.right.check()
}

func binaryTrees(max int) {
	if max < 6 {
		max = 6
	}
	fmt.Printf("stretch tree of depth %d\t check: %d\n", max+1, bottomUp(max+1).check())
	long := bottomUp(max)
	for d := 4; d <= max; d += 2 {
		it, sum := 1<<(max-d+4), 0
		for i := 0; i < it; i++ {
			sum += bottomUp(d).check()
		}
		fmt.Printf("%d\t trees of depth %d\t check: %d\n", it, d, sum)
	}
	fmt.Printf("long lived tree of depth %d\t check: %d\n", max, long.check())
	stretch, later := (2<<(max+1))-1, 2*((2<<max)-1)
	if later > stretch {
		stretch = later
	}
	fmt.Printf("live: peak_mb=%.1f\n", float64(stretch)*float64(unsafe.Sizeof(node{}))/1048576)
}

type gnode struct {
	left, right *gnode
	i, j        int32
}

func populate(d int, n *gnode) {
	if d <= 0 {
		return
	}
	d--
	n.left, n.right = &gnode{}, &gnode{}
	populate(d, n.left)
	populate(d, n.right)
}

func makeTree(d int) *gnode {
	if d <= 0 {
		return &gnode{}
	}
	return &gnode{left: makeTree(d - 1), right: makeTree(d - 1)}
}

func gcbench(scale int) {
	stretch, longLived, max := 18, 16, 16
	if scale != 18 && scale >= 8 {
		stretch, longLived, max = scale, scale-2, scale-2
	}
	size := func(d int) int { return (1 << (d + 1)) - 1 }
	makeTree(stretch)
	long := &gnode{}
	populate(longLived, long)
	array := make([]float64, 500000)
	for i := 0; i < 250000; i++ {
		array[i] = 1.0 / float64(i+1)
	}
	for d := 4; d <= max; d += 2 {
		iters := 2 * size(stretch) / size(d)
		for i := 0; i < iters; i++ {
			populate(d, &gnode{})
		}
		for i := 0; i < iters; i++ {
			makeTree(d)
		}
		fmt.Printf("depth %d: %d trees top-down and bottom-up\n", d, iters)
	}
	ok := long != nil && array[1000] == 1.0/1001
	fmt.Printf("long-lived tree and array %s\n", map[bool]string{true: "intact", false: "BROKEN"}[ok])
}

type cell struct {
	next  *cell
	value int64
}

func latency(liveMB, batches int) {
	const lists, churn, replace = 1024, 20000, 200
	perList := liveMB * 1048576 / 32 / lists
	heads := make([]*cell, lists)
	for l := range heads {
		for i := 0; i < perList; i++ {
			heads[l] = &cell{heads[l], int64(i)}
		}
	}
	times := make([]time.Duration, batches)
	seed, sum := uint64(88172645463325252), uint64(0)
	for b := 0; b < batches; b++ {
		t0 := time.Now()
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
		for i := 0; i < replace; i++ {
			seed ^= seed << 13
			seed ^= seed >> 7
			seed ^= seed << 17
			l := seed % lists
			if old := heads[l]; old != nil {
				heads[l] = &cell{old.next, old.value}
			}
		}
		times[b] = time.Since(t0)
	}
	cells := lists*perList + 1000
	fmt.Printf("live: peak_mb=%.1f\n", (float64(cells)*float64(unsafe.Sizeof(cell{}))+float64(lists*8))/1048576)
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	n := len(times)
	fmt.Printf("batches: n=%d p50_us=%.1f p99_us=%.1f max_us=%.1f (checksum %d)\n", n, us(times[(n-1)/2]), us(times[(n*99+99)/100-1]), us(times[n-1]), sum)
	runtime.KeepAlive(heads)
}

func swapAll(n *node) int {
	if n.left == nil {
		return 1
	}
	n.left, n.right = n.right, n.left
	return 1 + swapAll(n.left) + swapAll(n.right)
}

func barrier(depth, passes int) {
	root := bottomUp(depth)
	var done int32
	var collections int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for atomic.LoadInt32(&done) == 0 {
			runtime.GC()
			atomic.AddInt64(&collections, 1)
		}
	}()
	visited := 0
	for p := 0; p < passes; p++ {
		visited += swapAll(root)
	}
	atomic.StoreInt32(&done, 1)
	wg.Wait()
	fmt.Printf("swapped %d nodes in %d passes, %d collections alongside\n", visited, passes, collections)
}

type item struct {
	link  *item
	value int64
}

func twoMutator(iterations int) {
	const slots = 4096
	table := make([]*item, slots)
	var mu sync.Mutex
	sums := make([]uint64, 2)
	var wg sync.WaitGroup
	for t := 0; t < 2; t++ {
		wg.Add(1)
		go func(t int) {
			defer wg.Done()
			seed := uint64(t+1)*0x9E3779B97F4A7C15 + 1
			for i := 0; i < iterations; i++ {
				it := &item{value: int64(i)}
				seed ^= seed << 13
				seed ^= seed >> 7
				seed ^= seed << 17
				mu.Lock()
				table[seed%slots] = it
				if other := table[(seed>>20)%slots]; other != nil {
					sums[t] += uint64(other.value)
				}
				mu.Unlock()
			}
		}(t)
	}
	wg.Wait()
	fmt.Printf("two mutators: %d operations each (checksum %d)\n", iterations, (sums[0]+sums[1])%1000)
}
