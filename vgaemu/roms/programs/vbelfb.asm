; vbelfb.asm -- a VBE 2.0 program: picks 640x480 at 32 bits per pixel from the VBE mode
; list (INT 10h 4F00h/4F01h), sets it with the linear framebuffer (4F02h, BX bit 14), finds
; the framebuffer as a PCI device driver does -- BAR0 of the VGA-class function on bus 0,
; through config mechanism #1 at 0CF8h/0CFCh -- and checks it against the mode's PhysBasePtr,
; then enters unreal mode and draws at the framebuffer's 32-bit address:
;   * a gradient, one 32-bit store per pixel through FS with 32-bit addressing;
;   * eight colour bars and a frame, row by row with A32 REP STOSD through ES;
;   * labels by INT 10h teletype, which the VGA BIOS draws in the VBE mode.
; Build: nasm -f bin -o vbelfb.img vbelfb.asm   (a multi-sector floppy image)
; Run:   vgaemu boot -fda vbelfb.img
bits 16
org 0x7c00

SECTORS equ 3                   ; sectors after the boot sector
VBE_INFO  equ 0x0500            ; 512 bytes: controller information (4F00h)
MODE_INFO equ 0x0700            ; 256 bytes: mode information (4F01h)

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
    jmp stop

stop:
    cli
    hlt

; print the NUL-terminated string at DS:SI in colour BL (white in text mode)
puts:
    push ax
    push bx
.l: lodsb
    test al, al
    jz .d
    mov ah, 0x0e
    xor bh, bh
    int 10h
    jmp .l
.d: pop bx
    pop ax
    ret

; print EAX as eight hex digits and an 'h', colour BL
puthex32:
    push eax
    push cx
    mov cx, 8
.d: rol eax, 4
    push eax
    and al, 0x0f
    add al, '0'
    cmp al, '9'
    jbe .o
    add al, 7
.o: mov ah, 0x0e
    push bx
    xor bh, bh
    int 10h
    pop bx
    pop eax
    loop .d
    mov ax, 0x0e00 + 'h'
    push bx
    xor bh, bh
    int 10h
    pop bx
    pop cx
    pop eax
    ret

msg_load:  db "vbelfb: INT 13h could not read the program", 0

gdt:      dq 0
          dw 0xffff, 0x0000, 0x9200, 0x00cf     ; flat data: base 0, 4 GiB, writable
gdt_desc: dw 15
          dd gdt

times 510 - ($ - $$) db 0
dw 0xaa55

; ---------------------------------------------------------------------- sector 2 on
main:
    mov bl, 7
    ; the VBE controller and its mode list
    mov dword [VBE_INFO], 'VBE2'
    mov di, VBE_INFO
    mov ax, 0x4f00
    int 10h
    cmp ax, 0x004f
    jne no_vbe
    lfs si, [VBE_INFO + 0x0e]   ; VideoModePtr
.mode:
    mov cx, [fs:si]
    cmp cx, 0xffff
    je no_mode
    add si, 2
    push si
    push fs
    mov di, MODE_INFO
    mov ax, 0x4f01
    int 10h
    pop fs
    pop si
    cmp ax, 0x004f
    jne .mode
    test byte [MODE_INFO + 0x00], 0x80   ; linear framebuffer available
    jz .mode
    cmp word [MODE_INFO + 0x12], 640
    jne .mode
    cmp word [MODE_INFO + 0x14], 480
    jne .mode
    cmp byte [MODE_INFO + 0x19], 32
    jne .mode
    mov [mode], cx

    ; the framebuffer as the PCI function's BAR0
    call find_vga_bar0
    mov [bar0], eax

    ; set the mode with the linear framebuffer
    mov bx, [mode]
    or bx, 0x4000
    mov ax, 0x4f02
    int 10h
    cmp ax, 0x004f
    jne no_mode

    ; unreal mode: FS and ES with a 4 GiB limit
    cli
    lgdt [gdt_desc]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    mov bx, 8
    mov fs, bx
    mov es, bx
    and al, 0xfe
    mov cr0, eax
    xor bx, bx
    mov fs, bx
    mov es, bx
    sti

    mov edi, [bar0]
    test edi, edi
    jnz .lfb
    mov edi, [MODE_INFO + 0x28] ; no PCI VGA function: the mode's PhysBasePtr
.lfb:
    mov [lfb], edi
    movzx ebp, word [MODE_INFO + 0x10]   ; bytes per scan line

    ; 1. the gradient: red across, green down, blue constant; one store per pixel
..@gradient:                    ; bench_boot.py runs this much in unicorn too
    xor dx, dx                  ; y
.gy:
    mov edi, [lfb]
    movzx eax, dx
    imul eax, ebp
    add edi, eax
    xor cx, cx                  ; x
.gx:
    movzx eax, cx
    shr eax, 2                  ; red 0..159
    shl eax, 16
    mov ah, dl
    shr ah, 1                   ; green 0..239 (y / 2, low byte is enough below 512)
    test dh, dh
    jz .g
    or ah, 0x80
.g: mov al, 0x60                ; blue
    mov [fs:edi], eax
    add edi, 4
    inc cx
    cmp cx, 640
    jb .gx
    inc dx
    cmp dx, 480
    jb .gy
..@gradient_done:

    ; 2. a white frame and eight bars, each row one A32 REP STOSD
    cld
    mov dword [rx], 56
    mov dword [ry], 96
    mov dword [rw], 528
    mov dword [rh], 304
    mov dword [rc], 0x00ffffff
    call rect
    mov dword [rx], 64
    mov dword [ry], 104
    mov dword [rw], 512
    mov dword [rh], 288
    mov dword [rc], 0x00202020
    call rect
    xor esi, esi
.bar:
    mov eax, esi
    shl eax, 6                  ; x = 72 + 64 i
    add eax, 72
    mov [rx], eax
    mov dword [ry], 112
    mov dword [rw], 48
    mov eax, esi
    shl eax, 5
    add eax, 48                 ; height 48 + 32 i
    mov [rh], eax
    mov eax, [bar_colours + esi * 4]
    mov [rc], eax
    call rect
    inc si
    cmp si, 8
    jb .bar

    ; 3. labels
    mov dx, 0x0001
    call cursor
    mov si, msg_title
    mov bl, 0x0f
    call puts
    mov dx, 0x0201
    call cursor
    mov si, msg_pci
    call puts
    mov eax, [bar0]
    call puthex32
    mov si, msg_info
    call puts
    mov eax, [MODE_INFO + 0x28]
    call puthex32
    mov dx, 0x0401
    call cursor
    mov si, msg_same
    mov eax, [bar0]
    cmp eax, [MODE_INFO + 0x28]
    je .same
    mov si, msg_differ
.same:
    call puts
    mov dx, 0x1b01
    call cursor
    mov si, msg_how
    call puts
    jmp stop

no_vbe:
    mov si, msg_novbe
    call puts
    jmp stop
no_mode:
    mov si, msg_nomode
    call puts
    jmp stop

; cursor to row DH, column DL
cursor:
    push bx
    mov ah, 0x02
    xor bh, bh
    int 10h
    pop bx
    ret

; fill rw x rh pixels at (rx, ry) with rc: one A32 REP STOSD per row through ES
rect:
    mov ebx, [ry]
    imul ebx, ebp
    mov eax, [rx]
    lea ebx, [ebx + eax * 4]
    add ebx, [lfb]
    mov edx, [rh]
.row:
    mov edi, ebx
    mov ecx, [rw]
    mov eax, [rc]
    a32 rep stosd
    add ebx, ebp
    dec edx
    jnz .row
    ret

; EAX := BAR0 of the first VGA-class function (class 03h, subclass 00h) on bus 0, or 0
find_vga_bar0:
    xor ecx, ecx                ; device number
.dev:
    mov eax, ecx
    shl eax, 11
    or eax, 0x80000008          ; class code / revision
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    shr eax, 16
    cmp ax, 0x0300
    je .found
    inc cx
    cmp cx, 32
    jb .dev
    xor eax, eax
    ret
.found:
    mov eax, ecx
    shl eax, 11
    or eax, 0x80000010          ; BAR0
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    and eax, 0xfffffff0         ; a memory BAR: the low 4 bits are flags
    ret

bar_colours: dd 0x00ff0000, 0x00ff8000, 0x00ffff00, 0x0000ff00
             dd 0x0000ffff, 0x000000ff, 0x008000ff, 0x00ff00ff

msg_title:  db "VBE 640x480, 32 bits per pixel, drawn through the linear framebuffer", 0
msg_pci:    db "PCI VGA BAR0: ", 0
msg_info:   db "   VBE PhysBasePtr: ", 0
msg_same:   db "The same address: unreal mode, A32 stores and REP STOSD draw there.", 0
msg_differ: db "BAR0 and PhysBasePtr differ!", 0
msg_how:    db "gradient: one MOV [FS:EDI] per pixel; bars: A32 REP STOSD per row", 0
msg_novbe:  db "vbelfb: no VBE 2.0 BIOS (INT 10h AX=4F00h failed)", 0
msg_nomode: db "vbelfb: no 640x480x32 mode with a linear framebuffer", 0

mode: dw 0
bar0: dd 0
lfb:  dd 0
rx:   dd 0
ry:   dd 0
rw:   dd 0
rh:   dd 0
rc:   dd 0

times 512 * (SECTORS + 1) - ($ - $$) db 0
