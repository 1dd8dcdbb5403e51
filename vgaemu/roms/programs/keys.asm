; keys.asm -- a keyboard-driven boot sector: its own INT 09h reads the scancodes from port
; 60h (as games do), moves a block with the arrow keys (the gray E0-prefixed ones and the
; keypad's), four cells at a time with Shift held, shows the last 16 bytes the keyboard sent,
; which modifiers are down, and the RTC's time (INT 1Ah AH=02h).  Esc ends it.
; Build: nasm -f bin -o keys.img keys.asm   (a 512-byte floppy image)
; Run:   vgaemu boot -fda keys.img
;        vgaemu boot -fda keys.img --headless --keys 0.3s:right --keys 0.5s:shift+down \
;               --keys 1s:esc --screenshot keys.png
bits 16
org 0x7c00

ATTR     equ 0x1f                  ; bright white on blue
BLOCK    equ 0x4e20                ; a red cell
W        equ 6                     ; block size in cells
H        equ 3
TOP      equ 2                     ; the playfield's rows
BOTTOM   equ 22

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7c00
    mov word [9*4], kbd            ; our keyboard interrupt handler, no chaining
    mov [9*4+2], ax
    mov ax, 0xb800
    mov es, ax
    mov ah, 1                      ; no cursor
    mov cx, 0x2000
    int 10h
    xor di, di                     ; the whole screen blue
    mov ax, ATTR << 8 | ' '
    mov cx, 80*25
    rep stosw
    mov si, title
    xor di, di
    call puts
    mov si, codes
    mov di, 24*160
    call puts
    sti
main:
    hlt                            ; wake on the timer tick or a key
    call draw
    cmp byte [quit], 0
    je main
    cli
    hlt                            ; interrupts off: the run ends here

; ---------------------------------------------------------------- the keyboard interrupt
kbd:
    push ax
    push bx
    in al, 0x60
    mov bl, [logpos]               ; remember the byte in a ring of 16
    and bx, 15
    mov [log+bx], al
    inc byte [logpos]              ; (an E0 prefix is a "release": ignored below)
    mov ah, al
    and ah, 0x7f
    mov bl, 1                      ; which modifier bit: Shift 1, Ctrl 2, Alt 4
    cmp ah, 0x2a
    je .mod
    cmp ah, 0x36
    je .mod
    mov bl, 2
    cmp ah, 0x1d
    je .mod
    mov bl, 4
    cmp ah, 0x38
    je .mod
    test al, 0x80
    jnz .done                      ; other releases do nothing
    cmp al, 0x01
    jne .arrows
    mov byte [quit], 1
    jmp .done
.mod:
    test al, 0x80
    jnz .up
    or [mods], bl
    jmp .done
.up:
    not bl
    and [mods], bl
    jmp .done
.arrows:
    mov bl, 1
    test byte [mods], 1
    jz .step
    mov bl, 4
.step:
    cmp al, 0x4b
    jne .r
    sub [x], bl
    jmp .clamp
.r: cmp al, 0x4d
    jne .u
    add [x], bl
    jmp .clamp
.u: cmp al, 0x48
    jne .d
    sub [y], bl
    jmp .clamp
.d: cmp al, 0x50
    jne .done
    add [y], bl
.clamp:                            ; keep the block on the playfield
    mov al, [x]
    cmp al, 0x80
    jb .xhi
    mov byte [x], 0
.xhi:
    cmp byte [x], 80 - W
    jbe .ylo
    mov byte [x], 80 - W
.ylo:
    cmp byte [y], TOP
    jge .yhi
    mov byte [y], TOP
.yhi:
    cmp byte [y], BOTTOM - H + 1
    jle .done
    mov byte [y], BOTTOM - H + 1
.done:
    mov al, 0x20                   ; EOI
    out 0x20, al
    pop bx
    pop ax
    iret

; ---------------------------------------------------------------- the screen
draw:
    mov di, TOP*160                ; clear the playfield
    mov ax, ATTR << 8 | 0xfa       ; middle dots
    mov cx, 80*(BOTTOM-TOP+1)
    rep stosw
    mov al, [y]                    ; the block at (x, y)
    mov bl, 160
    mul bl
    mov di, ax
    mov al, [x]
    xor ah, ah
    shl ax, 1
    add di, ax
    mov dx, H
.row:
    mov ax, BLOCK
    mov cx, W
    push di
    rep stosw
    pop di
    add di, 160
    dec dx
    jnz .row
    mov di, 24*160 + 22            ; the last 16 bytes, oldest first
    mov bl, [logpos]
    mov cx, 16
.byte:
    push bx
    and bx, 15
    mov al, [log+bx]
    call puthex
    add di, 2
    pop bx
    inc bl
    loop .byte
    mov di, 23*160                 ; the modifiers held
    mov si, modnames
    mov bl, [mods]
    mov cx, 3
.mod:
    mov ah, 0x17                   ; dim when up
    shr bl, 1
    jnc .put
    mov ah, 0x1e                   ; yellow when down
.put:
    lodsb
    stosw
    lodsb
    stosw
    lodsb
    stosw
    add di, 2
    loop .mod
    mov ah, 2                      ; the RTC's time, HH:MM:SS
    int 1ah
    mov di, 72*2
    mov al, ch
    call puthex
    mov ax, ATTR << 8 | ':'
    stosw
    mov al, cl
    call puthex
    mov ax, ATTR << 8 | ':'
    stosw
    mov al, dh
    call puthex
    ret

; print the NUL-terminated string at DS:SI at ES:DI
puts:
    lodsb
    test al, al
    jz .done
    call putc
    jmp puts
.done:
    ret

putc:
    mov ah, ATTR
    stosw
    ret

; print AL as two hex digits at ES:DI
puthex:
    push ax
    shr al, 4
    call .nib
    pop ax
.nib:
    and al, 15
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 7
.out:
    jmp putc

title:    db "keys: arrows, Shift x4, Esc ends", 0
codes:    db "scancodes:", 0
modnames: db "ShfCtlAlt"
x:        db 37
y:        db 11
mods:     db 0
quit:     db 0
logpos:   db 0
log:      times 16 db 0

times 510-($-$$) db 0
dw 0xaa55
