// go_shortest_vectors.go — writes libs/stdhost/tests/data/go_shortest.txt: doubles (as hex bits)
// with Go's shortest round-trip digits, strconv.FormatFloat(f, 'e', -1, 64), the reference the
// stdhost_strings suite compares its own shortest digits with.
//
//	go run libs/stdhost/tools/go_shortest_vectors.go > libs/stdhost/tests/data/go_shortest.txt
package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
)

func main() {
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	state := uint64(20261202)
	for written := 0; written < 3000; {
		state += 0x9e3779b97f4a7c15
		z := state
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		switch written % 4 {
		case 1:
			z &= (1 << 53) - 1 // subnormals and the smallest normals
		case 2:
			z = math.Float64bits(float64(z>>20) / 1000) // short decimals
		case 3:
			z &^= (1 << 52) - 1 // powers of two: the uneven rounding intervals
		}
		f := math.Float64frombits(z)
		if math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 {
			continue
		}
		fmt.Fprintf(w, "%016x %s\n", z, strconv.FormatFloat(f, 'e', -1, 64))
		written++
	}
}
