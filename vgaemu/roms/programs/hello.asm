; hello.asm -- a boot sector that says hello through the BIOS teletype (INT 10h AH=0Eh).
; Build: nasm -f bin -o hello.img hello.asm   (a 512-byte floppy image)
; Run:   vgaemu boot -fda hello.img
bits 16
org 0x7c00

start:
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7c00
    mov [drive], dl
    mov si, banner
    call puts
    mov al, [drive]             ; which drive the BIOS booted us from, as a hex byte
    call puthex
    mov si, crlf
    call puts
    int 12h                     ; base memory in KiB
    call putdec
    mov si, kib
    call puts
    mov si, bye
    call puts
    cli
    hlt                         ; interrupts off: the run ends here

; print the NUL-terminated string at DS:SI
puts:
    lodsb
    test al, al
    jz .done
    mov ah, 0x0e
    mov bx, 0x0007
    int 10h
    jmp puts
.done:
    ret

; print AL as two hex digits
puthex:
    push ax
    shr al, 4
    call .digit
    pop ax
    and al, 0x0f
.digit:
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'A' - '9' - 1
.out:
    mov ah, 0x0e
    mov bx, 0x0007
    int 10h
    ret

; print AX in decimal
putdec:
    mov bx, 10
    xor cx, cx
.div:
    xor dx, dx
    div bx
    push dx
    inc cx
    test ax, ax
    jnz .div
.pr:
    pop ax
    add al, '0'
    mov ah, 0x0e
    mov bx, 0x0007
    int 10h
    loop .pr
    ret

banner: db "Hello, world! This is a boot sector on vgaemu.", 13, 10
        db "Booted from drive 0x", 0
crlf:   db 13, 10, 0
kib:    db " KiB of base memory (INT 12h)", 13, 10, 0
bye:    db "Halting with interrupts off.", 13, 10, 0
drive:  db 0

times 510 - ($ - $$) db 0
dw 0xaa55
