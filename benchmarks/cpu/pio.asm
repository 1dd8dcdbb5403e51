; pio.asm -- the port-I/O and planar-window kernels of benchmarks/bench_pio.py.
; Entry points at fixed offsets (7C00h + 0, 10h, 20h, 30h), each a loop of CX = [0500h]
; turns ending in CLI; HLT.  Built: nasm -f bin -o pio.bin pio.asm
bits 16
org 0x7c00

; 0: OUT to the graphics controller's data port (index 8: the bit mask), 4 insns a turn
out_loop:
    mov cx, [0x500]
    mov dx, 0x3cf
.l: out dx, al
    inc ax
    dec cx
    jnz .l
    cli
    hlt
times 0x10 - ($ - $$) db 0x90

; 10h: IN from the graphics controller's data port, 4 insns a turn
in_loop:
    mov cx, [0x500]
    mov dx, 0x3cf
.l: in al, dx
    add bx, ax
    dec cx
    jnz .l
    cli
    hlt
times 0x20 - ($ - $$) db 0x90

; 20h: planar window: latch read and a write (write mode 2), 6 insns a turn, no I/O port
window_loop:
    mov cx, [0x500]
    xor di, di
.l: mov al, [es:di]
    mov al, 5
    mov [es:di], al
    inc di
    dec cx
    jnz .l
    cli
    hlt
times 0x40 - ($ - $$) db 0x90

; 40h: planar12's plot: a bit-mask OUT, a latch read, a write, 9 insns a turn
plot_loop:
    mov cx, [0x500]
    mov dx, 0x3cf
    xor di, di
    mov bl, 0x80
.l: mov al, bl
    out dx, al
    mov al, [es:di]
    mov al, 5
    mov [es:di], al
    ror bl, 1
    adc di, 0
    dec cx
    jnz .l
    cli
    hlt
