; mode12.asm -- a real-mode program that draws in VGA mode 12h (640x480, 16 colours, planar).
;
; Loaded at 0000:7C00 and entered there with interrupts off; ends with CLI; HLT.  It sets the
; mode with INT 10h AX=0012h and then drives the planar hardware the way DOS-era code did:
; sixteen vertical bars through the sequencer's map mask (port 3C4h index 2) and REP STOSB,
; a rectangle through the graphics controller's set/reset (3CEh index 0/1) with the bit mask
; (index 8) for its ragged left and right edges, an XOR-mode grid (data rotate, index 3)
; that reads the latches, pixels and a circle-ish curve through INT 10h AH=0Ch, and a
; caption with AH=0Eh.
;
; Rebuild: nasm -f bin -o mode12.bin mode12.asm   (the .bin is committed)

bits 16
org 0x7C00

SEQ     equ 0x3C4
GC      equ 0x3CE

start:
        cli
        xor ax, ax
        mov ss, ax
        mov sp, 0x7C00
        mov ds, ax
        cld

        mov ax, 0x0012
        int 0x10

        mov ax, 0xA000
        mov es, ax

        ; sixteen bars, 40 pixels (5 bytes) wide, 300 lines: map mask = colour, bytes of FFh
        xor bx, bx                      ; colour
.bar:   mov dx, SEQ
        mov al, 2
        mov ah, bl
        out dx, ax                      ; map mask = colour (planes 0 stay 0 after the mode set)
        imul di, bx, 5
        mov dx, 300
.barl:  mov cx, 5
        mov al, 0xFF
        rep stosb
        add di, 80 - 5
        dec dx
        jnz .barl
        inc bx
        cmp bx, 16
        jb .bar
        mov dx, SEQ
        mov ax, 0x0F02                  ; all planes again
        out dx, ax

        ; a rectangle x 101..530, y 320..419 in colour 14 with set/reset: the CPU data is
        ; ignored, the bit mask keeps the pixels outside the edges
        mov dx, GC
        mov ax, 0x0E00                  ; set/reset = 14
        out dx, ax
        mov ax, 0x0F01                  ; enable set/reset on all planes
        out dx, ax
        mov di, 320 * 80
        mov bp, 100                     ; lines
.rect:  push di
        add di, 101 / 8
        mov ax, 0x0708                  ; bit mask: pixels 101..103 of the first byte (bits 2..0)
        out dx, ax
        mov al, [es:di]                 ; load the latches
        stosb
        mov ax, 0xFF08                  ; whole bytes 104..527
        out dx, ax
        mov cx, (528 - 104) / 8
        rep stosb
        mov ax, 0xE008                  ; pixels 528..530 (bits 7..5)
        out dx, ax
        mov al, [es:di]
        stosb
        pop di
        add di, 80
        dec bp
        jnz .rect
        mov ax, 0x0001                  ; set/reset off
        out dx, ax
        mov ax, 0xFF08                  ; bit mask back to all
        out dx, ax

        ; an XOR grid over everything: data rotate = XOR, map mask 1010b, every 16th line
        mov ax, 0x1803                  ; function select 11b (XOR)
        out dx, ax
        mov dx, SEQ
        mov ax, 0x0A02
        out dx, ax
        xor di, di
        mov bx, 30                      ; 30 lines, 16 apart
.grid:  mov cx, 80
.gridb: mov al, [es:di]                 ; latch
        mov al, 0xFF
        stosb
        loop .gridb
        add di, 15 * 80
        dec bx
        jnz .grid
        mov ax, 0x0F02
        out dx, ax
        mov dx, GC
        mov ax, 0x0003                  ; back to replace
        out dx, ax

        ; a curve through the BIOS: y = 440 - (x*x)/1024 for x in 0..639 step 1, colour 15
        xor cx, cx
.curve: mov ax, cx
        mul ax                          ; dx:ax = x*x
        mov bx, 1024
        div bx                          ; ax = x*x/1024 (< 400)
        mov dx, 440
        sub dx, ax
        mov ax, 0x0C0F
        xor bh, bh
        int 0x10
        inc cx
        cmp cx, 640
        jb .curve

        ; caption at row 28, column 1 in colour 12 (BIOS teletype: XOR-free, colour in BL)
        mov ah, 0x02
        xor bh, bh
        mov dx, 0x1C01
        int 0x10
        mov si, caption
.text:  lodsb
        test al, al
        jz .done
        mov ah, 0x0E
        mov bx, 0x000C
        int 0x10
        jmp .text

.done:  cli
        hlt
        jmp .done

caption: db "vgaemu x86: mode 12h, planar", 0
