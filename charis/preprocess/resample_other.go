//go:build !amd64

package preprocess

func resampleHorizontalAVX2(dst, src plane, rowOff int, c coeffs) bool { return false }

func mulAdd(acc []int32, src []uint8, k int32) { mulAddGo(acc, src, k) }
