; vbe.asm -- a real-mode program that draws in a VBE 640x480x32 mode through the linear
; framebuffer above 1 MiB, from "unreal" (flat real) mode.
;
; Loaded at 0000:7C00 and entered there with interrupts off; ends with CLI; HLT.  It asks the
; BIOS for mode 142h's information (INT 10h AX=4F01h: PhysBasePtr at offset 28h), sets the
; mode with the LFB bit (AX=4F02h, BX=4142h), then switches to protected mode just long
; enough to load ES and FS from a GDT descriptor with a 4 GiB limit and back (CR0.PE off
; again, the descriptor caches keep base 0 and the big limit): the classic unreal mode that
; boot code uses.  It draws with 32-bit addressing (0x67) and 32-bit data (0x66): a vertical
; colour gradient with A32 REP STOSD, nested squares with MOV [FS:EDI], and a
; checkerboard with computed addresses [FS:EBX+ECX*4].
;
; Rebuild: nasm -f bin -o vbe.bin vbe.asm   (the .bin is committed)

bits 16
org 0x7C00

WIDTH   equ 640
HEIGHT  equ 480
PITCH   equ WIDTH * 4

start:
        cli
        xor ax, ax
        mov ss, ax
        mov sp, 0x7C00
        mov ds, ax
        mov es, ax
        cld

        ; mode information block of 142h into 0000:0600
        mov ax, 0x4F01
        mov cx, 0x0142
        mov di, 0x0600
        int 0x10
        cmp ax, 0x004F
        jne fail
        mov eax, [0x0600 + 0x28]        ; PhysBasePtr
        mov [lfb], eax

        mov ax, 0x4F02
        mov bx, 0x4142                  ; 640x480x32 with the linear framebuffer
        int 0x10
        cmp ax, 0x004F
        jne fail

        ; unreal mode: ES and FS get base 0 and a 4 GiB limit
        lgdt [gdt_desc]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp short .pm                   ; flush the prefetch queue, as the 386 manual asks
.pm:    mov bx, 0x08
        mov es, bx
        mov fs, bx
        and al, 0xFE
        mov cr0, eax
        jmp short .rm
.rm:    xor ax, ax
        mov ds, ax

        ; gradient: line y gets colour (r=y/2, g=255-y/2, b=128) with A32 REP STOSD
        mov edi, [lfb]
        xor edx, edx                    ; y
.line:  mov eax, edx
        shr eax, 1                      ; r
        shl eax, 16
        mov ebx, edx
        shr ebx, 1
        not bl                          ; g = 255 - y/2
        mov ah, bl
        mov al, 0x80                    ; b
        mov ecx, WIDTH
        a32 rep stosd
        inc edx
        cmp edx, HEIGHT
        jb .line

        ; nested squares centred at (320, 240): side 2k, colours from a table
        mov esi, 200                    ; half side
        xor bp, bp
.sq:    mov ebx, 240
        sub ebx, esi                    ; top
        mov eax, esi
        add eax, esi                    ; side
        mov [side], eax
        imul ebx, ebx, PITCH
        mov edi, 320
        sub edi, esi
        lea edi, [ebx + edi * 4]
        add edi, [lfb]                  ; top-left pixel
        mov eax, [colours + bp]
        mov edx, [side]
.sql:   mov ecx, [side]
        push edi
.sqp:   mov [fs:edi], eax
        add edi, 4
        dec ecx
        jnz .sqp
        pop edi
        add edi, PITCH
        dec edx
        jnz .sql
        add bp, 4
        sub esi, 40
        ja .sq

        ; checkerboard in the top-left 128x64: 8x8 cells, [fs:ebx + ecx*4]
        mov ebx, [lfb]
        xor edx, edx                    ; y
.cky:   xor ecx, ecx                    ; x
.ckx:   mov eax, ecx
        xor eax, edx
        test al, 8
        mov eax, 0x00FFFFFF
        jz .white
        xor eax, eax
.white: mov [fs:ebx + ecx * 4], eax
        inc ecx
        cmp ecx, 128
        jb .ckx
        add ebx, PITCH
        inc edx
        cmp edx, 64
        jb .cky

.done:  cli
        hlt
        jmp .done

fail:   ; leave AX (the VBE status) for whoever looks, in a text-mode machine
        cli
        hlt
        jmp fail

align 4
lfb:    dd 0
side:   dd 0
colours: dd 0x00FF0000, 0x0000FF00, 0x000000FF, 0x00FFFF00, 0x00FF00FF

align 8
gdt:    dq 0
        ; 08h: data, base 0, limit 0xFFFFF pages (4 GiB), present, writable, 32-bit
        dw 0xFFFF, 0x0000
        db 0x00, 0x92, 0xCF, 0x00
gdt_end:
gdt_desc:
        dw gdt_end - gdt - 1
        dd gdt
