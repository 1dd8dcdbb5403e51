; smc.asm -- benchmarks/bench_cpu.py's self-modifying program: each turn patches the
; immediate of an instruction in the block that is running (so the TB dies after the store
; and is translated again) and, every 8th turn, a routine on another page that it then calls.
; Loaded at 0000:7C00; the iteration count is the dword at 0000:0500; ends with CLI; HLT.
; Rebuild: nasm -f bin -o smc.bin smc.asm
bits 16
org 0x7C00
        cli
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7C00
        mov ecx, [0x500]
        xor bx, bx
top:    mov [patch + 1], cx             ; rewrite the immediate below
patch:  mov ax, 0x0000
        add bx, ax
        test cl, 7
        jnz next
        mov [far_routine + 1], bx       ; rewrite code on another page, then run it
        call far_routine
next:   dec ecx
        jnz top
        cli
        hlt

times 0x1000 - ($ - $$) db 0x90
far_routine:
        mov dx, 0x0000
        xor si, dx
        ret
