package dev.iommulab.core.mm;

/** The VM_FAULT_* result bits of handle_mm_fault() (include/linux/mm_types.h). */
public final class VmFault {

    public static final int VM_FAULT_OOM = 0x000001;
    public static final int VM_FAULT_SIGBUS = 0x000002;
    public static final int VM_FAULT_SIGSEGV = 0x000040;
    /** Any of these means the fault could not be resolved (VM_FAULT_ERROR). */
    public static final int VM_FAULT_ERROR = VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV;

    private VmFault() {
    }
}
