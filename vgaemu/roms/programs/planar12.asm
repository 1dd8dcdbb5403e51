; planar12.asm -- mode 12h (640x480, 16 colours, four planes) drawn through the graphics
; controller the way VGA programs do it, without the BIOS's pixel services:
;   * concentric rectangles at unaligned x: write mode 0 with set/reset on all planes, the
;     bit mask trimming the partial bytes at each edge (a read first loads the latches);
;   * concentric circles: write mode 2 (CPU data = colour), one bit-mask bit per pixel;
;   * sixteen colour swatches: write mode 0 without set/reset, the sequencer's map mask
;     choosing which planes take 0FFh;
;   * labels through INT 10h (AH=02h cursor, AH=0Eh teletype with BL = colour), after putting
;     the graphics controller back the way the BIOS expects it.
; A boot sector that loads its other sectors with INT 13h AH=02h.
; Build: nasm -f bin -o planar12.img planar12.asm   (a multi-sector floppy image)
; Run:   vgaemu boot -fda planar12.img
bits 16
org 0x7c00

SECTORS equ 2                   ; sectors after the boot sector
GC      equ 0x3ce
SEQ     equ 0x3c4

start:
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7c00
    mov es, ax
    mov ax, 0x0200 + SECTORS    ; read the rest of the program behind the boot sector
    mov cx, 0x0002              ; cylinder 0, sector 2
    xor dh, dh                  ; head 0, DL = the boot drive
    mov bx, 0x7e00
    int 13h
    jc load_failed
    jmp main

load_failed:
    mov si, msg_load
.p: lodsb
    test al, al
    jz .h
    mov ah, 0x0e
    mov bx, 0x0007
    int 10h
    jmp .p
.h: cli
    hlt

msg_load: db "planar12: INT 13h could not read the program", 0

times 510 - ($ - $$) db 0
dw 0xaa55

; ---------------------------------------------------------------------- sector 2 on
main:
    mov ax, 0x0012
    int 10h
    push 0xa000
    pop es

    ; a dark blue background: set/reset 1 on every plane, all bits
    mov ax, 0x0100              ; index 0 set/reset = 1
    call gc_out
    mov ax, 0x0f01              ; index 1 enable set/reset = all planes
    call gc_out
    xor di, di
    mov cx, 80 * 480
    rep stosb

    ; concentric rectangles, 13 px in per step horizontally, 12 vertically
    xor si, si
.rect:
    mov ax, si
    mov bl, 13
    mul bl
    add ax, 17
    mov [rx0], ax
    mov bx, 311
    sub bx, ax
    add bx, 17
    mov [rx1], bx               ; x1 = 328 - 13 i (exclusive)
    mov ax, si
    mov bl, 12
    mul bl
    add ax, 24
    mov [ry0], ax
    mov bx, 432
    sub bx, ax
    mov [ry1], bx               ; y1 = 408 - 12 i (exclusive)
    mov ax, si
    and al, 7
    add al, 8                   ; colours 8..15, then again
    test si, 1
    jz .c
    sub al, 6                   ; 2..9 on odd steps
.c: mov [rcol], al
    call fill_rect
    inc si
    cmp si, 12
    jb .rect

    ; circles around (480, 216) in write mode 2
    mov ax, 0x0205              ; index 5 mode: write mode 2
    call gc_out
    mov word [rad], 6
.circ:
    mov ax, [rad]
    xor dx, dx
    mov bx, 6
    div bx                      ; k = r / 6
    xor dx, dx
    mov bx, 15
    div bx
    inc dl                      ; colour (k mod 15) + 1
    mov [ccol], dl
    call circle
    add word [rad], 6
    cmp word [rad], 150
    jbe .circ

    ; swatches: map mask picks the planes, write mode 0, no set/reset
    mov ax, 0x0005
    call gc_out
    mov ax, 0x0001
    call gc_out
    mov ax, 0xff08
    call gc_out
    xor bx, bx                  ; colour 0..15
.sw:
    mov dx, SEQ
    mov ax, 0x0f02              ; map mask: all planes, clear to black first
    call port_pair
    call swatch_block
    mov dx, SEQ
    mov al, 2
    mov ah, bl
    call port_pair              ; map mask = the colour's planes
    mov al, 0xff
    call swatch_fill
    inc bx
    cmp bx, 16
    jb .sw
    mov dx, SEQ
    mov ax, 0x0f02
    call port_pair

    ; the BIOS draws text with the graphics controller in its reset state
    mov ax, 0x0000
    call gc_out
    mov ax, 0x0001
    call gc_out
    mov ax, 0x0005
    call gc_out
    mov ax, 0xff08
    call gc_out
    mov dx, 0x0000
    mov si, title
    mov bl, 15
    call print_at
    mov dx, 0x1d00              ; row 29
    mov si, caption
    mov bl, 14
    call print_at
    cli
    hlt

; GC register AL := AH
gc_out:
    mov dx, GC
; port DX (index) := AL, DX+1 (data) := AH
port_pair:
    out dx, al
    inc dx
    xchg al, ah
    out dx, al
    xchg al, ah
    dec dx
    ret

; fill [rx0, rx1) x [ry0, ry1) with colour rcol through set/reset, column by column
fill_rect:
    mov al, 0
    mov ah, [rcol]
    call gc_out                 ; set/reset = colour (enable is on for all planes)
    mov ax, [rx0]
    mov cl, al
    and cl, 7
    mov byte [lmask], 0xff
    shr byte [lmask], cl
    shr ax, 3
    mov [lbyte], ax
    mov ax, [rx1]
    dec ax
    mov cl, al
    and cl, 7
    xor cl, 7
    mov byte [rmask], 0xff
    shl byte [rmask], cl
    shr ax, 3
    mov [rbyte], ax
    mov bx, [lbyte]
    cmp bx, [rbyte]
    jne .wide
    mov ah, [lmask]             ; one byte column: both edges in it
    and ah, [rmask]
    call edge_column
    ret
.wide:
    mov ah, [lmask]
    call edge_column
    mov bx, [rbyte]
    mov ah, [rmask]
    call edge_column
    mov cx, [rbyte]             ; the whole bytes in between
    sub cx, [lbyte]
    dec cx
    jz .done
    mov ax, 0xff08
    call gc_out
    mov bx, [ry0]
.row:
    mov ax, bx
    mov dx, 80
    mul dx
    add ax, [lbyte]
    inc ax
    mov di, ax
    push cx
    rep stosb
    pop cx
    inc bx
    cmp bx, [ry1]
    jb .row
.done:
    ret

; the byte column BX with bit mask AH, rows ry0..ry1
edge_column:
    mov [col], bx
    mov al, 8
    call gc_out                 ; bit mask = AH
    mov bx, [ry0]
.r: mov ax, bx
    mov dx, 80
    mul dx
    add ax, [col]
    mov di, ax
    mov al, [es:di]             ; load the latches: bits outside the mask come from them
    mov [es:di], al
    inc bx
    cmp bx, [ry1]
    jb .r
    ret

; midpoint circle of radius rad around (480, 216), colour ccol, in write mode 2
circle:
    mov ax, [rad]
    mov [cx_], ax               ; x = r
    mov word [cy_], 0           ; y = 0
    mov ax, 1
    sub ax, [rad]
    mov [err], ax               ; err = 1 - r
.step:
    mov ax, [cx_]
    cmp ax, [cy_]
    jl .done
    mov si, [cx_]
    mov bp, [cy_]
    call plot8
    mov si, [cy_]
    mov bp, [cx_]
    call plot8
    inc word [cy_]
    cmp word [err], 0
    jge .out
    mov ax, [cy_]
    shl ax, 1
    inc ax
    add [err], ax
    jmp .step
.out:
    dec word [cx_]
    mov ax, [cy_]
    sub ax, [cx_]
    shl ax, 1
    inc ax
    add [err], ax
    jmp .step
.done:
    ret

; the four points (480 +- SI, 216 +- BP)
plot8:
    mov cx, 480
    add cx, si
    mov dx, 216
    add dx, bp
    call plot
    mov dx, 216
    sub dx, bp
    call plot
    mov cx, 480
    sub cx, si
    call plot
    mov dx, 216
    add dx, bp
    call plot
    ret

; pixel (CX, DX) := ccol; write mode 2, one bit-mask bit
plot:
    push cx
    push dx
    mov ax, dx
    mov di, 80
    mul di
    mov di, cx
    shr di, 3
    add di, ax
    and cl, 7
    mov ah, 0x80
    shr ah, cl
    mov al, 8
    call gc_out
    mov al, [es:di]             ; latches
    mov al, [ccol]
    mov [es:di], al
    pop dx
    pop cx
    ret

; swatch BX: 40 x 36 pixels at x = 40 * BX, y = 424..459, written with AL on the mapped planes
swatch_block:
    xor al, al
swatch_fill:
    push bx
    mov dx, bx
    mov bx, 424 * 80
    imul dx, dx, 5
    add bx, dx
    mov dx, 36
.r: mov di, bx
    mov cx, 5
    rep stosb
    add bx, 80
    dec dx
    jnz .r
    pop bx
    ret

; teletype the NUL-terminated string at SI from row DH, column DL, in colour BL
print_at:
    push bx
    mov ah, 0x02
    xor bh, bh
    int 10h
    pop bx
.c: lodsb
    test al, al
    jz .d
    mov ah, 0x0e
    xor bh, bh
    int 10h
    jmp .c
.d: ret

title:   db "vgaemu mode 12h: planar drawing through the graphics controller", 0
caption: db "set/reset + bit mask | write mode 2 | map mask swatches 0-15", 0

rx0:   dw 0
ry0:   dw 0
rx1:   dw 0
ry1:   dw 0
rcol:  db 0
lmask: db 0
rmask: db 0
lbyte: dw 0
rbyte: dw 0
col:   dw 0
rad:   dw 0
ccol:  db 0
cx_:   dw 0
cy_:   dw 0
err:   dw 0

times 512 * (SECTORS + 1) - ($ - $$) db 0
