; loop.asm -- benchmarks/bench_cpu.py's loop-heavy program: ALU work and branches.
; Loaded at 0000:7C00; the iteration count is the dword at 0000:0500; ends with CLI; HLT.
; Rebuild: nasm -f bin -o loop.bin loop.asm
bits 16
org 0x7C00
        cli
        xor ax, ax
        mov ds, ax
        mov ecx, [0x500]
        xor eax, eax
        mov ebx, 1
        xor edx, edx
        xor si, si
.l:     add eax, ebx            ; 9 instructions a turn, one taken branch in four skipped
        xor ebx, eax
        inc si
        test si, 3
        jnz .skip
        sub edx, eax
.skip:  shl ebx, 1
        adc ebx, 0
        dec ecx
        jnz .l
        cli
        hlt
