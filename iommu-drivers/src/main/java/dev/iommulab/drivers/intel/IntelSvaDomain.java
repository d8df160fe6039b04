package dev.iommulab.drivers.intel;

import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuOps;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.core.mm.MmuNotifier;
import dev.iommulab.drivers.DriverDomain;
import java.util.ArrayList;
import java.util.List;

/**
 * An SVA domain of the VT-d driver (drivers/iommu/intel/svm.c, {@code intel_svm_domain_ops}): a domain per mm whose
 * PASID entries point the first stage at the process's page table, with its own DID, its attachments
 * ({@code domain->dev_pasids}) and an mmu notifier ({@code intel_mmuops}). Its
 * {@code arch_invalidate_secondary_tlbs} flushes the domain's cache tags for what munmap or mprotect took away —
 * PASID-based IOTLB and, for ATS functions, device-TLB with the PASID — and returns only once the unit completed
 * them; its release (process exit) takes those entries out of use without draining; the later detach (the blocked
 * domain's set_dev_pasid) clears and drains them (reference/linux-fault-stack.md §4.3).
 */
final class IntelSvaDomain extends DriverDomain implements IntelDomain, MmuNotifier {

    /** One attachment ({@code struct dev_pasid_info} on {@code domain->dev_pasids}). */
    private record DevPasid(DeviceInfo info, int pasid) {
    }

    private final IntelDomains domains;
    private final int did;
    private final List<DevPasid> devPasids = new ArrayList<>();

    private IntelSvaDomain(IommuOps owner, IntelDomains domains, MmStruct mm, int did) {
        super(ops -> new IommuDomain(DomainType.SVA, owner, ops, mm));
        this.domains = domains;
        this.did = did;
    }

    /** intel_svm_domain_alloc(): a domain with its own DID, registered as an mmu notifier of {@code mm}. */
    static IommuDomain alloc(IommuOps owner, IntelDomains domains, MmStruct mm) {
        IntelSvaDomain sva = new IntelSvaDomain(owner, domains, mm, domains.unit().allocDomainId());
        mm.mmuNotifierRegister(sva);
        return sva.domain();
    }

    @Override
    public int did() {
        return did;
    }

    /** An SVA domain has no attach_dev (ENODEV). */
    @Override
    public void attachDev(IommuDomain d, Device dev) {
        domains.unit().info(dev);
        throw IntelDomains.noAttach(domain(), IommuCore.IOMMU_NO_PASID);
    }

    /**
     * Counterpart of intel_svm_set_dev_pasid(): PASID and ATS must be enabled (EINVAL), IOPF is enabled for a
     * fault-capable domain when the device has PRI (a device without PRI handles its faults itself), then a
     * first-stage PASID entry on {@code mm->pgd}; a failure leaves no IOPF reference behind.
     */
    @Override
    public void setDevPasid(IommuDomain d, Device dev, int pasid) {
        IntelUnit unit = domains.unit();
        DeviceInfo info = unit.info(dev);
        if (!info.pci().pasidEnabled() || !info.pci().atsEnabled()) {
            throw new KernelException(Errno.EINVAL, "dev", info.dev() + " needs PASID and ATS enabled for SVA");
        }
        boolean pri = info.pci().config().pri(); // "SVA with non-IOMMU/PRI IOPF handling is allowed."
        if (pri) {
            unit.iopfRefs().forDomainSet(domain(), info);
        }
        try {
            unit.tables().setupFirstLevel(info.pasidDir, pasid, domain().mm().pgd(), did);
        } catch (KernelException e) {
            if (pri) {
                unit.iopfRefs().forDomainRemove(domain(), info); // out_unwind_iopf
            }
            throw e;
        }
        assignTag(info, pasid);
        info.setAttached(pasid, this);
        unit.trace("intel_pasid_setup_first_level", "PASID %d of %s -> first-stage table %#x (%s)", pasid,
                info.dev().name(), domain().mm().pgd(), domain().mm().name());
    }

    /** Replacing an SVA attachment is not modelled (EOPNOTSUPP). */
    @Override
    public void setDevPasid(IommuDomain d, Device dev, int pasid, IommuDomain old) {
        domains.unit().info(dev);
        throw new KernelException(Errno.EOPNOTSUPP, "domain", "replacing an SVA attachment is not modelled");
    }

    /** domain_add_dev_pasid(): the attachment joins {@code dev_pasids}, which the notifier flushes. */
    @Override
    public void assignTag(DeviceInfo info, int pasid) {
        devPasids.add(new DevPasid(info, pasid));
    }

    /** domain_remove_dev_pasid(), at the blocked domain's set_dev_pasid. */
    @Override
    public void unassignTag(DeviceInfo info, int pasid) {
        devPasids.remove(new DevPasid(info, pasid));
    }

    /** Counterpart of intel_svm_domain_free(): the notifier is put; the mm no longer tells this domain anything. */
    @Override
    public void free(IommuDomain d) {
        domain().mm().mmuNotifierUnregister(this);
    }

    /**
     * intel_arch_invalidate_secondary_tlbs(): cache_tag_flush_all() for the whole address space
     * ({@code start == 0 && end == ULONG_MAX}), else cache_tag_flush_range() for {@code [start, end - 1]} (the mm's
     * end is exclusive, the IOMMU's inclusive) — per attachment a page-selective PASID-IOTLB invalidation of the
     * DID and PASID with an address mask covering the range, and a device-TLB invalidation with the PASID for an
     * ATS function — submitted with a wait the caller sleeps on, so no IOTLB or ATC entry of the range is left
     * when munmap() frees the pages.
     */
    @Override
    public void invalidateSecondaryTlbs(MmStruct mm, long start, long end) {
        List<CacheTags.Tag> tags = devPasids.stream()
                .map(dp -> new CacheTags.Tag(dp.info(), dp.pasid(), did, true)).toList();
        boolean whole = start == 0 && end == -1L;
        domains.unit().trace("intel_arch_invalidate_secondary_tlbs", "%s [%#x, %#x): %d attachment(s), %s",
                mm.name(), start, end, tags.size(), whole ? "everything" : "range");
        if (whole) {
            domains.cacheTags().flushAll(tags, true);
        } else {
            domains.cacheTags().flushRange(tags, start, end - 1, true);
        }
    }

    /**
     * Counterpart of intel_mm_release(): every PASID entry of the domain is torn down with {@code fault_ignore} —
     * not present, FPD set, caches flushed, no drain — so the unit drops (or, for an LPIG request, answers Invalid
     * Request to) what still arrives for the PASID without recording a fault, before the page tables are freed.
     */
    @Override
    public void release(MmStruct mm) {
        for (DevPasid dp : List.copyOf(devPasids)) {
            domains.teardown().tearDownEntry(dp.info(), dp.pasid(), true);
        }
        domains.unit().trace("intel_mm_release", "%s exits: %d PASID entr%s fault-disabled", mm.name(),
                devPasids.size(), devPasids.size() == 1 ? "y" : "ies");
    }

    @Override
    public String toString() {
        return domain() + " DID " + did;
    }
}
