package dev.iommulab.core.mm;

import dev.iommulab.hw.sim.Labelled;
import java.util.Objects;

/**
 * A virtual memory area ({@code struct vm_area_struct}): {@code [start, end)} with its VM_* flags and what backs
 * it.
 */
public record Vma(long start, long end, int flags, Backing backing) {

    public static final int VM_READ = 0x1;
    public static final int VM_WRITE = 0x2;
    public static final int VM_EXEC = 0x4;
    /** The access bits; a VMA with none of them is PROT_NONE. */
    public static final int VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;

    /** What a fault in the VMA finds behind it. */
    public enum Backing implements Labelled {
        /** Anonymous memory: the zero page on a read fault, a fresh private page on a write fault. */
        ANONYMOUS,
        /**
         * Nothing: like a file mapping whose pages lie past the end of the file, every fault gets
         * {@code VM_FAULT_SIGBUS} (filemap_fault() beyond i_size).
         */
        NONE;

        /** The backing spelled {@code label}. */
        public static Backing of(String label) {
            return Labelled.fromLabel(Backing.class, label)
                    .orElseThrow(() -> new IllegalArgumentException("backing must be anonymous or none: " + label));
        }
    }

    public Vma {
        if ((start & 0xfff) != 0 || (end & 0xfff) != 0 || end <= start) {
            throw new IllegalArgumentException(String.format("bad VMA [%#x, %#x)", start, end));
        }
        Objects.requireNonNull(backing, "backing");
    }

    /** An anonymous VMA. */
    public Vma(long start, long end, int flags) {
        this(start, end, flags, Backing.ANONYMOUS);
    }

    public boolean contains(long addr) {
        return addr >= start && addr < end;
    }

    public boolean has(int vmFlags) {
        return (flags & vmFlags) == vmFlags;
    }

    /** The same VMA over {@code [newStart, newEnd)} (a piece of a split, __split_vma()). */
    Vma slice(long newStart, long newEnd) {
        return new Vma(newStart, newEnd, flags, backing);
    }

    /** The same range with {@code newFlags} (mprotect_fixup()). */
    Vma withFlags(int newFlags) {
        return new Vma(start, end, newFlags, backing);
    }

    /** Flags from a protection string: {@code none} or letters from r, w and x. */
    public static int flagsOf(String prot) {
        if ("none".equals(prot)) {
            return 0;
        }
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

    /** The protection string of {@code flags}: {@code none} or letters from r, w and x. */
    public static String protOf(int flags) {
        if ((flags & VM_ACCESS_FLAGS) == 0) {
            return "none";
        }
        return ((flags & VM_READ) != 0 ? "r" : "") + ((flags & VM_WRITE) != 0 ? "w" : "")
                + ((flags & VM_EXEC) != 0 ? "x" : "");
    }
}
