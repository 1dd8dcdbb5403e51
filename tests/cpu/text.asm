; text.asm -- a real-mode program that writes a text-mode screen (mode 03h, 80x25).
;
; Loaded at 0000:7C00 and entered there with interrupts off; ends with CLI; HLT.  INT 10h
; services through the IVT: set mode (AX=0003h), scroll a window up with a blue attribute
; (AH=06h), write a string with per-character attributes (AX=1302h), write one character
; repeated (AH=09h), place the cursor (AH=02h) and print with teletype (AH=0Eh, which
; scrolls the screen when it reaches the bottom); then direct stores into B800:0000 --
; a frame of box-drawing characters with REP STOSW and a 16x16 table of every attribute.
;
; Rebuild: nasm -f bin -o text.bin text.asm   (the .bin is committed)

bits 16
org 0x7C00

start:
        cli
        xor ax, ax
        mov ss, ax
        mov sp, 0x7C00
        mov ds, ax
        mov es, ax
        cld

        mov ax, 0x0003
        int 0x10

        ; a blue window, rows 2..12, columns 4..75
        mov ax, 0x0600                  ; AL=0: clear the window
        mov bh, 0x1F                    ; white on blue
        mov cx, 0x0204
        mov dx, 0x0C4B
        int 0x10

        ; a string with its own attributes at row 4, column 8 (AX=1302h: char, attr pairs)
        mov ax, 0x1302
        xor bh, bh
        mov cx, (pairs_end - pairs) / 2
        mov dx, 0x0408
        mov bp, pairs
        int 0x10

        ; 30 stars in yellow on red at row 6, column 10
        mov ah, 0x02
        xor bh, bh
        mov dx, 0x060A
        int 0x10
        mov ax, 0x092A
        mov bx, 0x004E
        mov cx, 30
        int 0x10

        ; teletype lines from row 20 on: the last ones scroll the screen up
        mov ah, 0x02
        xor bh, bh
        mov dx, 0x1400
        int 0x10
        mov bl, 7
.lines: mov si, line
.tt:    lodsb
        test al, al
        jz .eol
        mov ah, 0x0E
        int 0x10
        jmp .tt
.eol:   inc byte [line + 5]             ; "line 0", "line 1", ...
        dec bl
        jnz .lines

        ; direct stores: a double-line frame at rows 14..18, columns 44..75
        mov ax, 0xB800
        mov es, ax
        mov di, (14 * 80 + 44) * 2
        mov ax, 0x0AC9                  ; top-left corner, light green
        stosw
        mov ax, 0x0ACD
        mov cx, 30
        rep stosw
        mov ax, 0x0ABB
        stosw
        mov dx, 3
.side:  add di, (80 - 32) * 2
        mov ax, 0x0ABA
        stosw
        mov ax, 0x0020
        mov cx, 30
        rep stosw
        mov ax, 0x0ABA
        stosw
        dec dx
        jnz .side
        add di, (80 - 32) * 2
        mov ax, 0x0AC8
        stosw
        mov ax, 0x0ACD
        mov cx, 30
        rep stosw
        mov ax, 0x0ABC
        stosw

        ; every attribute once: a 16x16 block of letters at rows 2..17, columns 0..15
        xor bx, bx                      ; attribute
.attr:  mov ax, bx
        shr ax, 4                       ; row = attr / 16
        add ax, 2
        mov cx, 80
        mul cx
        mov cx, bx
        and cx, 15
        add ax, cx                      ; column = attr % 16
        shl ax, 1
        mov di, ax
        mov al, bl
        and al, 15
        add al, 'A'
        mov ah, bl
        stosw
        inc bx
        cmp bx, 256
        jb .attr

        ; the cursor at row 16, column 50
        mov ah, 0x02
        xor bh, bh
        mov dx, 0x1032
        int 0x10

.done:  cli
        hlt
        jmp .done

pairs:  db 'v', 0x1E, 'g', 0x1E, 'a', 0x1E, 'e', 0x1E, 'm', 0x1E, 'u', 0x1E, ' ', 0x1F
        db 'x', 0x1C, '8', 0x1A, '6', 0x1B, ' ', 0x1F, 't', 0x9F, 'e', 0x9F, 'x', 0x9F
        db 't', 0x9F
pairs_end:
line:   db "line 0 of the teletype output", 13, 10, 0
