; plasma13.asm -- a mode 13h effect paced by the 8254 timer.
; Programs PIT channel 0 to 60 Hz, hooks IRQ 0 (INT 08h) and redraws an XOR pattern
; that scrolls with the tick count, sleeping in HLT between ticks.  After 40 ticks it
; restores the BIOS timer, and halts with interrupts off (the run ends on that picture).
; Build: nasm -f bin -o plasma13.img plasma13.asm   (a 512-byte floppy image)
; Run:   vgaemu boot -fda plasma13.img
bits 16
org 0x7c00

PIT_HZ   equ 1193182
RATE     equ 60
TICKS    equ 40

start:
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7c00
    mov ax, 0x0013              ; 320x200, 256 colours
    int 10h

    ; palette: 256 entries of a smooth three-phase ramp
    mov dx, 0x3c8
    xor al, al
    out dx, al
    inc dx
    xor cx, cx
.pal:
    mov al, cl                  ; red rises over 0..63, falls over 64..127, ...
    and al, 0x7f
    cmp al, 0x40
    jb .r
    xor al, 0x7f
.r: out dx, al
    mov al, cl
    add al, 0x55
    and al, 0x7f
    cmp al, 0x40
    jb .g
    xor al, 0x7f
.g: out dx, al
    mov al, cl
    add al, 0xaa
    and al, 0x7f
    cmp al, 0x40
    jb .b
    xor al, 0x7f
.b: out dx, al
    inc cl
    jnz .pal

    cli
    mov eax, [8 * 4]            ; keep the BIOS timer vector
    mov [old08], eax
    mov word [8 * 4], tick
    mov [8 * 4 + 2], cs
    mov al, 0x34                ; channel 0, lo/hi, mode 2
    out 0x43, al
    mov ax, PIT_HZ / RATE
    out 0x40, al
    mov al, ah
    out 0x40, al
    sti

    push 0xa000
    pop es
frame:
    hlt                         ; sleep until the next tick
    mov bp, [ticks]
    cmp bp, TICKS
    jae done
..@draw:                        ; one redraw: bench_boot.py runs this much in unicorn too
    xor di, di
    xor dx, dx                  ; y
.row:
    xor bx, bx                  ; x
    mov cx, 320
.px:
    mov ax, bx
    add ax, bp
    add ax, bp
    mov si, dx
    sub si, bp
    xor ax, si
    shr ax, 1
    add al, dl
    stosb
    inc bx
    loop .px
    inc dx
    cmp dx, 200
    jb .row
..@drawn:
    jmp frame

done:
    cli
    mov eax, [old08]            ; give the BIOS its timer back, at 18.2 Hz
    mov [8 * 4], eax
    mov al, 0x36
    out 0x43, al
    xor al, al
    out 0x40, al
    out 0x40, al
    hlt

tick:
    inc word [cs:ticks]
    push ax
    mov al, 0x20                ; EOI to the master PIC
    out 0x20, al
    pop ax
    iret

ticks:  dw 0
old08:  dd 0

times 510 - ($ - $$) db 0
dw 0xaa55
