#include "textflag.h"

// half is 1 << (precisionBits - 1), the rounding every sum starts from.
#define HALF $0x200000

// func hrow(dst, src *uint8, plan *int, kk *int32, stride, n, bands int)
TEXT ·hrow(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ plan+16(FP), BX
	MOVQ kk+24(FP), DX
	MOVQ stride+32(FP), R8
	MOVQ n+40(FP), CX
	MOVQ bands+48(FP), R13
	TESTQ CX, CX
	JZ done
	MOVL HALF, AX
	VMOVD AX, X8
	VPBROADCASTD X8, X8

output:
	MOVQ (BX), R11
	ADDQ SI, R11
	MOVQ 8(BX), R10
	MOVQ DX, R12
	VPXOR Y0, Y0, Y0

dot:
	VPMOVZXBD (R11), Y1
	VPMULLD (R12), Y1, Y1
	VPADDD Y1, Y0, Y0
	ADDQ $8, R11
	ADDQ $32, R12
	DECQ R10
	JNZ dot

	// RGBA: the two pixels' lanes of each band summed; one band: all eight lanes
	VEXTRACTI128 $1, Y0, X1
	VPADDD X1, X0, X0
	CMPQ R13, $1
	JNE clip
	VPSHUFD $0x4e, X0, X1
	VPADDD X1, X0, X0
	VPSHUFD $0xb1, X0, X1
	VPADDD X1, X0, X0

clip:
	// rounded, shifted and clamped to bytes, as clip8
	VPADDD X8, X0, X0
	VPSRAD $22, X0, X0
	VPACKSSDW X0, X0, X0
	VPACKUSWB X0, X0, X0
	VMOVD X0, AX
	CMPQ R13, $1
	JEQ gray
	ORL $0xff000000, AX
	MOVL AX, (DI)
	JMP next

gray:
	MOVB AX, (DI)

next:
	ADDQ R13, DI
	ADDQ $16, BX
	ADDQ R8, DX
	DECQ CX
	JNZ output
	VZEROUPPER

done:
	RET

// func mulAdd8(acc *int32, src *uint8, n int, k int32)
TEXT ·mulAdd8(SB), NOSPLIT, $0-28
	MOVQ acc+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVL k+24(FP), AX
	VMOVD AX, X2
	VPBROADCASTD X2, Y2
	SHRQ $3, CX
	JZ madDone

madLoop:
	VPMOVZXBD (SI), Y1
	VPMULLD Y2, Y1, Y1
	VPADDD (DI), Y1, Y1
	VMOVDQU Y1, (DI)
	ADDQ $8, SI
	ADDQ $32, DI
	DECQ CX
	JNZ madLoop

madDone:
	VZEROUPPER
	RET
