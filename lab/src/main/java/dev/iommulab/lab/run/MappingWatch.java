package dev.iommulab.lab.run;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuMap;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.mm.CpuPageTable;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.core.mm.Vma;
import dev.iommulab.hw.pci.MemoryAccess;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.lab.machine.Machine;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The invariant {@code dma-within-mappings} (DESIGN.md §5: a device never reads or writes memory outside what its
 * domain maps), judged at the instant of every access: the IOMMU performed a request of PASID p at {@code pa} for
 * virtual address {@code va}; it holds only if p is the PASID of a process, a VMA of that process contains
 * {@code va} and allows the access, and the CPU page table maps {@code va}'s page to exactly
 * {@code pa}'s frame (writable for a write) — what a walk for the PASID finds right now. A stale IOTLB or ATC entry
 * that still reaches a frame the process no longer maps there is caught when it is used, and an access that was legal
 * when it happened is never blamed on a later munmap or exit.
 *
 * <p>An access at a PASID that user space attached through iommufd (an UNMANAGED or NESTED domain there) is judged
 * against that domain's page table instead: it must reach the frame iommu_iova_to_phys() finds for its IOVA now.
 * PASID 0 is {@code IOMMU_NO_PASID}: no process ever gets it, and the hardware translates a request tagged with it
 * through the entry that serves requests without PASID (VT-d's RID_PASID PASID-table entry, RISC-V's default
 * process_id 0 under DC.tc.DPE), so such an access is judged against the group's RID domain ({@code group->domain}:
 * an iommufd HWPT, the default DMA or IDENTITY domain, or the blocking domain, which maps nothing).
 *
 * <p>Accesses without a PASID (RID domains, the DMA API) are not judged: what "mapped" means for them is the IOVA
 * domain's own table and the DMA API's buffers, which this watch does not follow yet.
 */
final class MappingWatch {

    private static final long PAGE_MASK = ~0xfffL;

    private final Machine machine;
    private final Supplier<String> step;
    /** Violations in the order they happened. */
    final List<String> violations = new ArrayList<>();
    /** Accesses with a PASID judged so far. */
    long judged;

    MappingWatch(Machine machine, Supplier<String> step) {
        this.machine = machine;
        this.step = step;
        machine.endpoints().forEach((name, ep) -> ep.addMemoryAccessListener(a -> onAccess(name, a)));
    }

    void onAccess(String device, MemoryAccess a) {
        if (a.pasid() < 0) {
            return;
        }
        judged++;
        IommuDomain paging = a.pasid() == IommuCore.IOMMU_NO_PASID ? ridDomain(device) : userDomain(device, a.pasid());
        String why = paging != null ? outsideDomain(paging, a) : outside(a);
        if (why != null) {
            violations.add(String.format("%s PASID %d %s va %#x+%d -> pa %#x: %s (step %s)", device, a.pasid(),
                    a.access().name().toLowerCase(Locale.ROOT), a.va(), a.length(), a.pa(), why, step.get()));
        }
    }

    /** Why {@code a} lies outside its process's mappings now, or null when it does not. */
    private String outside(MemoryAccess a) {
        MmStruct mm = processWithPasid(a.pasid());
        if (mm == null) {
            return "no process has this PASID";
        }
        Vma vma = mm.vmaLookup(a.va());
        if (vma == null && mm.users() == 0) {
            // exit_mmap() tears the address space down after the mmu notifiers' release: until then it is still mapped
            return mm.name() + " has exited";
        }
        if (vma == null) {
            return "no VMA of " + mm.name() + " contains it";
        }
        if (!vma.has(vmFlag(a.access()))) {
            return String.format("%s's VMA [%#x, %#x) does not allow %s", mm.name(), vma.start(), vma.end(),
                    a.access().name().toLowerCase(Locale.ROOT));
        }
        CpuPageTable.Pte pte = mm.pteOf(a.va() & PAGE_MASK);
        if (!pte.present()) {
            return mm.name() + "'s page table maps nothing there";
        }
        if (pte.frame() != (a.pa() & PAGE_MASK)) {
            return String.format("%s's page table maps it to %#x", mm.name(), pte.frame());
        }
        if (a.access() == Access.WRITE && !pte.writable()) {
            return mm.name() + "'s page table maps it read-only";
        }
        return null;
    }

    /**
     * The paging or nested domain user space attached at {@code pasid} of the device through iommufd (an
     * UNMANAGED or NESTED domain), or null (SVA, or nothing attached: judged against the processes).
     */
    private IommuDomain userDomain(String device, int pasid) {
        Device dev = machine.device(device);
        if (dev == null || dev.group() == null) {
            return null;
        }
        AttachHandle handle;
        try {
            handle = machine.core().attachHandleGet(dev.group(), pasid, null);
        } catch (KernelException e) {
            return null;
        }
        DomainType type = handle.domain().type();
        return type == DomainType.UNMANAGED || type == DomainType.NESTED ? handle.domain() : null;
    }

    /**
     * The domain translating requests without PASID of the device's group ({@code group->domain}), which also
     * translates requests tagged with PASID 0; null when the device has no group or nothing was attached yet.
     */
    private IommuDomain ridDomain(String device) {
        Device dev = machine.device(device);
        return dev == null || dev.group() == null ? null : dev.group().domain();
    }

    /**
     * A PASID attached through iommufd maps what its HWPT's page table maps: the access must reach exactly the frame
     * iommu_iova_to_phys() finds for its IOVA now (a stale IOTLB or ATC entry after ioas-unmap is caught here).
     * Write permission is the page table's business and is not judged.
     */
    private static String outsideDomain(IommuDomain domain, MemoryAccess a) {
        long phys = IommuMap.iovaToPhys(domain, a.va() & PAGE_MASK);
        if (phys == 0) {
            return "the " + domain.type() + " domain attached at the PASID maps nothing there";
        }
        if ((phys & PAGE_MASK) != (a.pa() & PAGE_MASK)) {
            return String.format("the %s domain attached at the PASID maps it to %#x", domain.type(), phys);
        }
        return null;
    }

    private MmStruct processWithPasid(int pasid) {
        for (Map.Entry<String, MmStruct> e : machine.processes().entrySet()) {
            if (machine.sva().mmPasid(e.getValue()) == pasid) {
                return e.getValue();
            }
        }
        return null;
    }

    private static int vmFlag(Access access) {
        return switch (access) {
            case READ -> Vma.VM_READ;
            case WRITE -> Vma.VM_WRITE;
            case EXEC -> Vma.VM_EXEC;
        };
    }
}
