package dev.iommulab.core.mm;

/**
 * A virtual memory area ({@code struct vm_area_struct}): {@code [start, end)} with its VM_* flags.
 */
public record Vma(long start, long end, int flags) {

    public static final int VM_READ = 0x1;
    public static final int VM_WRITE = 0x2;
    public static final int VM_EXEC = 0x4;

    public Vma {
        if ((start & 0xfff) != 0 || (end & 0xfff) != 0 || end <= start) {
            throw new IllegalArgumentException(String.format("bad VMA [%#x, %#x)", start, end));
        }
    }

    public boolean contains(long addr) {
        return addr >= start && addr < end;
    }

    public boolean has(int vmFlags) {
        return (flags & vmFlags) == vmFlags;
    }

    /** Flags from a protection string of the letters r, w, x. */
    public static int flagsOf(String prot) {
        int flags = 0;
        for (char c : prot.toCharArray()) {
            flags |= switch (c) {
                case 'r' -> VM_READ;
                case 'w' -> VM_WRITE;
                case 'x' -> VM_EXEC;
                default -> throw new IllegalArgumentException("prot letter must be r, w or x: " + c);
            };
        }
        return flags;
    }
}
