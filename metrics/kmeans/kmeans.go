// Package kmeans clusters vectors with Lloyd's algorithm from a seeded k-means++ start
// (Arthur & Vassilvitskii, "k-means++: the advantages of careful seeding", SODA 2007).
// The same points, k and seed give the same clusters.
package kmeans

import "math/rand/v2"

// maxIter bounds Lloyd iterations; they usually settle in a handful.
const maxIter = 100

// Cluster partitions points (all of one dimension) into at most k clusters by squared
// Euclidean distance. It returns each point's cluster in [0, k') and the k' centres,
// k' = min(k, len(points)). An empty cluster keeps its previous centre.
func Cluster(points [][]float32, k int, seed uint64) (assign []int, centers [][]float64) {
	n := len(points)
	k = min(k, n)
	if k <= 0 {
		return nil, nil
	}
	r := rand.New(rand.NewPCG(seed, 0x6b6d65616e73)) // "kmeans"
	centers = make([][]float64, 0, k)
	centers = append(centers, toF64(points[r.IntN(n)]))
	d2 := make([]float64, n)
	for len(centers) < k {
		total := 0.0
		for i, p := range points {
			d2[i] = nearestDist(p, centers)
			total += d2[i]
		}
		if total == 0 { // fewer distinct points than k: duplicate a centre
			centers = append(centers, toF64(points[r.IntN(n)]))
			continue
		}
		x := r.Float64() * total
		next := n - 1
		for i, d := range d2 {
			if x -= d; x < 0 {
				next = i
				break
			}
		}
		centers = append(centers, toF64(points[next]))
	}
	assign = make([]int, n)
	for i := range assign {
		assign[i] = -1
	}
	dim := len(points[0])
	for range maxIter {
		changed := false
		for i, p := range points {
			best, bestD := 0, dist2(p, centers[0])
			for c := 1; c < k; c++ {
				if d := dist2(p, centers[c]); d < bestD {
					best, bestD = c, d
				}
			}
			if assign[i] != best {
				assign[i], changed = best, true
			}
		}
		if !changed {
			break
		}
		sums := make([][]float64, k)
		counts := make([]int, k)
		for c := range sums {
			sums[c] = make([]float64, dim)
		}
		for i, p := range points {
			c := assign[i]
			counts[c]++
			for j, v := range p {
				sums[c][j] += float64(v)
			}
		}
		for c := range centers {
			if counts[c] == 0 {
				continue
			}
			for j := range sums[c] {
				centers[c][j] = sums[c][j] / float64(counts[c])
			}
		}
	}
	return assign, centers
}

// Nearest returns the index of the centre closest to p.
func Nearest(p []float32, centers [][]float64) int {
	best, bestD := 0, dist2(p, centers[0])
	for c := 1; c < len(centers); c++ {
		if d := dist2(p, centers[c]); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func nearestDist(p []float32, centers [][]float64) float64 {
	return dist2(p, centers[Nearest(p, centers)])
}

func dist2(p []float32, c []float64) float64 {
	s := 0.0
	for j, v := range p {
		d := float64(v) - c[j]
		s += d * d
	}
	return s
}

func toF64(p []float32) []float64 {
	out := make([]float64, len(p))
	for i, v := range p {
		out[i] = float64(v)
	}
	return out
}
