// strings.go — the Go version of bench/strings.c: format n numbers (half integers, half doubles)
// one per line with strconv.AppendInt / AppendFloat(f, 'g', -1, 64) into a strings.Builder,
// split the text with strings.Split, parse every line back with strconv.ParseInt / ParseFloat.
package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

type splitMix struct{ state uint64 }

func (r *splitMix) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

var scales = [8]float64{1e-3, 1e-1, 1, 10, 1e3, 1e5, 1e7, 1e9}

func makeInt(x uint64) int64 { return int64(x) / (int64(1) << (x & 62)) }

func makeDouble(x uint64) float64 {
	var f float64
	if x&1 != 0 {
		f = (float64(x>>11) * 0x1p-53) * scales[(x>>4)&7]
	} else {
		f = float64(int64((x>>12)%10000000)) / 100.0
	}
	if x&2 != 0 {
		f = -f
	}
	return f
}

func stringsWorkload(n int) {
	rng := splitMix{42}
	var sumOut, xorOut, sumIn, xorIn uint64
	var b strings.Builder
	scratch := make([]byte, 0, 32)
	for i := 0; i < n; i++ {
		x := rng.next()
		if i&1 == 0 {
			v := makeInt(x)
			sumOut += uint64(v)
			scratch = strconv.AppendInt(scratch[:0], v, 10)
		} else {
			f := makeDouble(x)
			xorOut ^= math.Float64bits(f)
			scratch = strconv.AppendFloat(scratch[:0], f, 'g', -1, 64)
		}
		scratch = append(scratch, '\n')
		b.Write(scratch)
	}
	pieces := strings.Split(b.String(), "\n")
	lines := len(pieces) - 1
	bad := 0
	for i := 0; i < lines; i++ {
		if i&1 == 0 {
			v, err := strconv.ParseInt(pieces[i], 10, 64)
			if err != nil {
				bad++
			}
			sumIn += uint64(v)
		} else {
			f, err := strconv.ParseFloat(pieces[i], 64)
			if err != nil {
				bad++
			}
			xorIn ^= math.Float64bits(f)
		}
	}
	fmt.Printf("strings: %d numbers formatted, split and parsed back\n", lines)
	fmt.Printf("ints sum %d / %d, doubles xor %016x / %016x\n", sumOut, sumIn, xorOut, xorIn)
	ok := bad == 0 && lines == n && sumOut == sumIn && xorOut == xorIn
	if ok {
		fmt.Println("round trip exact")
	} else {
		fmt.Println("round trip BROKEN")
	}
}
