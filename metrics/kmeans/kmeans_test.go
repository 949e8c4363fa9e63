package kmeans

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// blobs makes k tight clusters of m points each around well-separated centres.
func blobs(k, m int) ([][]float32, []int) {
	r := rand.New(rand.NewPCG(1, 2))
	var pts [][]float32
	var truth []int
	for c := range k {
		for range m {
			pts = append(pts, []float32{float32(10*c) + float32(r.NormFloat64()*0.3), float32(-7*c) + float32(r.NormFloat64()*0.3)})
			truth = append(truth, c)
		}
	}
	return pts, truth
}

func TestRecoversBlobs(t *testing.T) {
	pts, truth := blobs(4, 30)
	assign, centers := Cluster(pts, 4, 7)
	if len(centers) != 4 {
		t.Fatalf("%d centres", len(centers))
	}
	label := map[int]int{}
	for i, a := range assign {
		if l, ok := label[truth[i]]; ok && l != a {
			t.Fatalf("blob %d split across clusters %d and %d", truth[i], l, a)
		}
		label[truth[i]] = a
	}
	if len(label) != 4 {
		t.Fatal("blobs merged")
	}
	for i, p := range pts {
		if Nearest(p, centers) != assign[i] {
			t.Fatalf("point %d not assigned to its nearest centre", i)
		}
	}
}

func TestDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	pts := make([][]float32, 200)
	for i := range pts {
		pts[i] = []float32{float32(r.Float64()), float32(r.Float64()), float32(r.Float64())}
	}
	a1, _ := Cluster(pts, 5, 11)
	a2, _ := Cluster(pts, 5, 11)
	if !slices.Equal(a1, a2) {
		t.Fatal("same seed, different clusters")
	}
}

func TestFewPoints(t *testing.T) {
	pts := [][]float32{{1, 1}, {1, 1}, {2, 2}}
	assign, centers := Cluster(pts, 4, 1)
	if len(centers) != 3 || len(assign) != 3 {
		t.Fatalf("k > n: %d centres, %d assignments", len(centers), len(assign))
	}
	if a, c := Cluster(nil, 4, 1); a != nil || c != nil {
		t.Fatal("no points must give no clusters")
	}
}
