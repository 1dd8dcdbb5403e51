; smc.asm -- self-modifying code: stores that rewrite instructions the CPU is about to run,
; in the same translation block and on the same page, then a report of whether each change
; took effect.  Every patched instruction lies 36+ bytes of straight-line code past the store
; (beyond a 386's 16-byte or a 486's 32-byte prefetch queue), so real hardware, QEMU and an
; emulator with precise SMC all run the new code: the program must print "took effect" four
; times.  An emulator that ran a stale translation prints "NOT taken".
; Build: nasm -f bin -o smc.img smc.asm   (a multi-sector floppy image)
; Run:   vgaemu boot -fda smc.img
bits 16
org 0x7c00

SECTORS equ 2                   ; sectors after the boot sector

start:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    mov ax, 0x0200 + SECTORS    ; read the rest of the program behind the boot sector
    mov cx, 0x0002
    xor dh, dh
    mov bx, 0x7e00
    int 13h
    jc .bad
    jmp main
.bad:
    mov si, msg_load
    call puts
    cli
    hlt

; print the NUL-terminated string at DS:SI
puts:
    push ax
    push bx
.l: lodsb
    test al, al
    jz .d
    mov ah, 0x0e
    mov bx, 0x0007
    int 10h
    jmp .l
.d: pop bx
    pop ax
    ret

; print AX as four hex digits and an 'h'
puthex:
    push cx
    mov cx, 4
.d: rol ax, 4
    push ax
    and al, 0x0f
    add al, '0'
    cmp al, '9'
    jbe .o
    add al, 7
.o: mov ah, 0x0e
    push bx
    mov bx, 0x0007
    int 10h
    pop bx
    pop ax
    loop .d
    push ax
    mov ax, 0x0e00 + 'h'
    mov bx, 0x0007
    int 10h
    pop ax
    pop cx
    ret

; SI = what was tested, AX = the value the new code leaves, BX = the value it must leave
report:
    call puts
    push bx
    call puthex
    pop bx
    cmp ax, bx
    jne .stale
    mov si, msg_ok
    call puts
    ret
.stale:
    inc byte [failures]
    mov si, msg_stale
    call puts
    ret

msg_load:  db "smc: INT 13h could not read the program", 0
msg_ok:    db " -> took effect", 13, 10, 0
msg_stale: db " -> NOT taken: stale code ran", 13, 10, 0
failures:  db 0

times 510 - ($ - $$) db 0
dw 0xaa55

; ---------------------------------------------------------------------- sector 2
main:
    mov si, msg_title
    call puts

    ; 1. an immediate operand, patched 36 bytes ahead in the same block
    mov byte [t1 + 1], 0x2a
    times 12 mov bx, 0x1234
t1: mov al, 0x07
    xor ah, ah
    mov bx, 0x002a
    mov si, msg_t1
    call report

    ; 2. an opcode: INC CX becomes DEC CX
    xor cx, cx
    mov byte [t2], 0x49         ; dec cx
    times 12 mov bx, 0x1234
t2: inc cx
    mov ax, cx
    mov bx, 0xffff
    mov si, msg_t2
    call report

    ; 3. REP MOVSB copies two new instructions over the code ahead
    mov si, t3_new
    mov di, t3
    mov cx, 4
    cld
    rep movsb
    times 12 mov bx, 0x1234
t3: mov dx, 0x1111              ; becomes mov dh, 0BEh / mov dl, 0EFh
    nop
    mov ax, dx
    mov bx, 0xbeef
    mov si, msg_t3
    call report

    ; 4. a loop that rewrites its own ADD immediate on every turn: 0 + 1 + ... + 99
..@rewrite_loop:                ; bench_boot.py runs this much in unicorn too
    xor bx, bx
    mov cx, 100
    mov word [t4 + 2], 0
t4: add bx, strict word 0
    inc word [t4 + 2]
    loop t4
..@rewrite_loop_done:
    mov ax, bx
    mov bx, 4950
    mov si, msg_t4
    call report

    mov si, msg_all
    cmp byte [failures], 0
    je .fine
    mov si, msg_some
.fine:
    call puts
    cli
    hlt

t3_new:
    mov dh, 0xbe
    mov dl, 0xef

msg_title: db 13, 10, "Self-modifying code: four stores rewrite code ahead of the CPU", 13, 10, 13, 10, 0
msg_t1: db "1. MOV AL,07h patched to 2Ah, same block:      AX = ", 0
msg_t2: db "2. INC CX patched to DEC CX, same block:       AX = ", 0
msg_t3: db "3. REP MOVSB copies new code ahead:            AX = ", 0
msg_t4: db "4. a loop rewriting its ADD, 0+1+...+99:       AX = ", 0
msg_all:  db 13, 10, "Every change took effect, as on a 386 whose prefetch queue was refilled.", 13, 10, 0
msg_some: db 13, 10, "Some changes did NOT take effect: stale code ran.", 13, 10, 0

times 512 * (SECTORS + 1) - ($ - $$) db 0
