// main.go — the Go versions of the bench/ workloads, same work as the C programs:
//
//	go-bench <binary_trees|binary_trees_parallel|gcbench|latency|barrier|two_mutator|strings|shrink> [args]
package main

import (
	"fmt"
	"os"
	"strconv"
)

func arg(i int, fallback int) int {
	if len(os.Args) > i+1 {
		if v, err := strconv.Atoi(os.Args[i+1]); err == nil {
			return v
		}
	}
	return fallback
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: go-bench workload [args]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "binary_trees":
		binaryTrees(arg(1, 21))
	case "gcbench":
		gcbench(arg(1, 18))
	case "latency":
		latency(arg(1, 1024), arg(2, 2000))
	case "barrier":
		barrier(arg(1, 22)-1, arg(2, 20))
	case "binary_trees_parallel":
		binaryTreesParallel(arg(1, 21), arg(2, 2))
	case "two_mutator":
		twoMutator(arg(1, 4000000))
	case "strings":
		stringsWorkload(arg(1, 10000000))
	case "shrink":
		shrink(arg(1, 1024), arg(2, 16), arg(3, 6000))
	default:
		fmt.Fprintln(os.Stderr, "unknown workload", os.Args[1])
		os.Exit(2)
	}
	reportPauses()
}
