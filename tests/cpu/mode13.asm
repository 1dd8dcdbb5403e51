; mode13.asm -- a real-mode program that draws in VGA mode 13h through the BIOS.
;
; Loaded at 0000:7C00 (a boot sector's address) and entered there with interrupts off; it
; ends with CLI; HLT.  It sets mode 13h with INT 10h AX=0013h (the machine's VGA BIOS, entered
; through the real-mode IVT), programs part of the DAC through INT 10h AX=1010h and the DAC
; ports, and draws with ordinary instructions: an XOR texture computed per pixel (ALU, Jcc,
; STOSB), filled rectangles with REP STOSB / REP STOSD, a diagonal line with INT 10h AH=0Ch,
; a multiplication table of colours (MUL, DIV, shifts) and a caption with AH=0Eh teletype.
;
; Rebuild: nasm -f bin -o mode13.bin mode13.asm   (the .bin is committed)

bits 16
org 0x7C00

start:
        cli
        xor ax, ax
        mov ss, ax
        mov sp, 0x7C00
        mov ds, ax
        cld

        mov ax, 0x0013                  ; set mode 13h
        int 0x10

        ; DAC entries 0x20..0x5F: a blue-to-yellow ramp through the ports
        mov dx, 0x3C8
        mov al, 0x20
        out dx, al
        inc dx
        xor cx, cx
.ramp:  mov al, cl                      ; red   = i
        out dx, al
        shr al, 1                       ; green = i/2
        out dx, al
        mov al, 63
        sub al, cl                      ; blue  = 63-i
        out dx, al
        inc cx
        cmp cx, 64
        jb .ramp

        ; DAC entry 0xF0 = white-ish pink through INT 10h AX=1010h (set one register)
        mov ax, 0x1010
        mov bx, 0x00F0
        mov dh, 63                      ; red
        mov ch, 40                      ; green
        mov cl, 50                      ; blue
        int 0x10

        ; the XOR texture: pixel(x, y) = 0x20 + ((x ^ y) & 63)
        mov ax, 0xA000
        mov es, ax
        xor di, di
        xor dx, dx                      ; y
.row:   xor cx, cx                      ; x
.col:   mov ax, cx
        xor ax, dx
        and al, 63
        add al, 0x20
        stosb
        inc cx
        cmp cx, 320
        jb .col
        inc dx
        cmp dx, 200
        jb .row

        ; rectangles: (x, y, w, h, colour) records, filled one line at a time with REP STOSB
        mov si, rects
.rect:  lodsw                           ; x (0xFFFF ends the list)
        cmp ax, 0xFFFF
        je .rects_done
        mov bx, ax
        lodsw                           ; y
        imul di, ax, 320
        add di, bx
        lodsw
        mov bp, ax                      ; w
        lodsw
        mov dx, ax                      ; h
        lodsb                           ; colour
.rline: push di
        mov cx, bp
        rep stosb
        pop di
        add di, 320
        dec dx
        jnz .rline
        jmp .rect
.rects_done:

        ; a 64x32 block of 32-bit stores: each dword is 4 pixels of the colour byte repeated
        mov di, 150 * 320 + 240
        mov bl, 32
.dwrow: push di
        mov al, bl
        add al, 0x30
        mov ah, al
        mov cx, ax
        shl eax, 16
        mov ax, cx
        mov cx, 16
        rep stosd
        pop di
        add di, 320
        dec bl
        jnz .dwrow

        ; a colour multiplication table: 12x12 cells of 6x6 pixels, colour (i*j) mod 16 + 32*(i/4)
        xor si, si                      ; i
.mi:    xor bx, bx                      ; j
.mj:    mov ax, si
        mul bx                          ; ax = i*j
        mov cl, 16
        div cl                          ; ah = (i*j) mod 16
        mov al, ah
        mov cx, si
        shr cx, 2
        shl cl, 5
        add al, cl
        ; cell origin: x = 8 + 6*j, y = 110 + 6*i
        imul di, si, 6 * 320
        add di, 110 * 320 + 8
        imul cx, bx, 6
        add di, cx
        mov dx, 6
.cell:  mov cx, 6
        rep stosb
        add di, 320 - 6
        dec dx
        jnz .cell
        inc bx
        cmp bx, 12
        jb .mj
        inc si
        cmp si, 12
        jb .mi

        ; a diagonal line through the BIOS: INT 10h AH=0Ch, one pixel per call
        xor cx, cx                      ; x
        mov dx, 10                      ; y
.diag:  mov ax, 0x0CF0                  ; AH=0Ch write pixel, AL=colour F0h
        xor bh, bh
        int 0x10
        inc cx
        inc cx
        inc dx
        cmp dx, 100
        jb .diag

        ; caption: cursor to row 23, column 2, then teletype in colour 0x0F
        mov ah, 0x02
        xor bh, bh
        mov dx, 0x1702
        int 0x10
        mov si, caption
.text:  lodsb
        test al, al
        jz .done
        mov ah, 0x0E
        mov bx, 0x000F
        int 0x10
        jmp .text

.done:  cli
        hlt
        jmp .done

rects:  ;   x,   y,   w,   h, colour
        dw  20,  20, 100,  60
        db  4
        dw  60,  40, 120,  50
        db  0x2F
        dw 200,  10,  90, 120
        db  0x5F
        dw 0xFFFF

caption: db "vgaemu x86: mode 13h", 0
