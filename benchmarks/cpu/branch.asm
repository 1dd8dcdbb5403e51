; branch.asm -- benchmarks/bench_cpu.py's dispatch-heavy program: short blocks joined by
; direct jumps, a two-way branch, a near call and a return, so most of the time goes to
; getting from one translation block to the next (chaining, the dispatch loop).
; Loaded at 0000:7C00; the iteration count is the dword at 0000:0500; ends with CLI; HLT.
; Rebuild: nasm -f bin -o branch.bin branch.asm
bits 16
org 0x7C00
        cli
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7C00
        mov ecx, [0x500]
        xor bx, bx
        xor dx, dx
.l:     add ax, cx              ; 10 instructions and 5 blocks a turn
        test al, 1
        jz .even
        inc bx
        jmp .join
.even:  dec bx
        jmp .join
.join:  call sub
        dec ecx
        jnz .l
        cli
        hlt
sub:    xor dx, bx
        ret
