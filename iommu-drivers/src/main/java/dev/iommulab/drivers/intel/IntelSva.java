package dev.iommulab.drivers.intel;

import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.core.mm.MmuNotifier;
import java.util.ArrayList;
import java.util.List;

/**
 * SVA domains of the VT-d driver (drivers/iommu/intel/svm.c): a domain per mm whose PASID entries point the
 * first stage at the process's page table, with an mmu notifier ({@code intel_mmuops}). Its
 * {@code arch_invalidate_secondary_tlbs} flushes the domain's cache tags for what munmap or mprotect took away —
 * PASID-based IOTLB and, for ATS functions, device-TLB with the PASID — and returns only once the unit completed
 * them; its release (process exit) takes those entries out of use without draining; the later detach clears and
 * drains them (reference/linux-fault-stack.md §4.3).
 */
final class IntelSva {

    /** One attachment of an SVA domain ({@code struct dev_pasid_info} on {@code domain->dev_pasids}). */
    private record DevPasid(DeviceInfo info, int pasid) {
    }

    /** What the driver keeps for an SVA domain: its DID, its attachments and its mm notifier. */
    private final class SvaDomain implements MmuNotifier {
        final int did;
        final List<DevPasid> devPasids = new ArrayList<>();

        SvaDomain(int did) {
            this.did = did;
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
            List<IntelDomains.Tag> tags = devPasids.stream()
                    .map(dp -> new IntelDomains.Tag(dp.info(), dp.pasid(), did, true)).toList();
            boolean whole = start == 0 && end == -1L;
            iommu.trace("intel_arch_invalidate_secondary_tlbs", "%s [%#x, %#x): %d attachment(s), %s", mm.name(),
                    start, end, tags.size(), whole ? "everything" : "range");
            if (whole) {
                iommu.cacheTags().flushAll(tags, true);
            } else {
                iommu.cacheTags().flushRange(tags, start, end - 1, true);
            }
        }

        /**
         * intel_mm_release(): every PASID entry of the domain is torn down with {@code fault_ignore} — not present,
         * FPD set, caches flushed, no drain — so the unit drops (or, for an LPIG request, answers Invalid Request
         * to) what still arrives for the PASID without recording a fault, before the page tables are freed.
         */
        @Override
        public void release(MmStruct mm) {
            for (DevPasid dp : List.copyOf(devPasids)) {
                iommu.teardown().tearDownEntry(dp.info(), dp.pasid(), true);
            }
            iommu.trace("intel_mm_release", "%s exits: %d PASID entr%s fault-disabled", mm.name(), devPasids.size(),
                    devPasids.size() == 1 ? "y" : "ies");
        }
    }

    private final IntelIommu iommu;

    IntelSva(IntelIommu iommu) {
        this.iommu = iommu;
    }

    /** intel_svm_domain_alloc(): a domain with its own DID, registered as an mmu notifier of {@code mm}. */
    IommuDomain allocDomain(MmStruct mm) {
        IommuDomain domain = new IommuDomain(DomainType.SVA, iommu, iommu, mm);
        SvaDomain sva = new SvaDomain(iommu.allocDomainId());
        domain.setDriverData(sva);
        mm.mmuNotifierRegister(sva);
        return domain;
    }

    /** intel_svm_domain_free(): the notifier is put; the mm no longer tells this domain anything. */
    void free(IommuDomain domain) {
        domain.mm().mmuNotifierUnregister(data(domain));
    }

    /**
     * intel_svm_set_dev_pasid(): PASID and ATS must be enabled (EINVAL), IOPF is enabled for a fault-capable
     * domain when the device has PRI (a device without PRI handles its faults itself), then a first-stage PASID
     * entry on {@code mm->pgd}; a failure leaves no IOPF reference behind.
     */
    void setDevPasid(DeviceInfo info, IommuDomain domain, int pasid) {
        if (!info.pci.pasidEnabled() || !info.pci.atsEnabled()) {
            throw new KernelException(Errno.EINVAL, "dev", info.dev + " needs PASID and ATS enabled for SVA");
        }
        SvaDomain sva = data(domain);
        boolean pri = info.pci.config().pri(); // "SVA with non-IOMMU/PRI IOPF handling is allowed."
        if (pri) {
            iommu.iopfForDomainSet(domain, info);
        }
        try {
            iommu.tables().setupFirstLevel(info.pasidDir, pasid, domain.mm().pgd(), sva.did);
        } catch (KernelException e) {
            if (pri) {
                iommu.iopfForDomainRemove(domain, info); // out_unwind_iopf
            }
            throw e;
        }
        sva.devPasids.add(new DevPasid(info, pasid));
        iommu.trace("intel_pasid_setup_first_level", "PASID %d of %s -> first-stage table %#x (%s)", pasid,
                info.dev.name(), domain.mm().pgd(), domain.mm().name());
    }

    /**
     * blocking_domain_set_dev_pasid() for an SVA domain: the IOPF reference is dropped first (the last one removes
     * the device from the iopf queue, answering its pending groups), then intel_pasid_tear_down_entry() — which
     * drains only while another fault-capable attachment keeps IOPF on — then domain_remove_dev_pasid().
     */
    void removeDevPasid(DeviceInfo info, int pasid, IommuDomain domain) {
        if (info.pci.config().pri()) {
            iommu.iopfForDomainRemove(domain, info);
        }
        iommu.teardown().tearDownEntry(info, pasid, false);
        data(domain).devPasids.remove(new DevPasid(info, pasid));
    }

    /** The DID of an SVA domain's PASID entries. */
    static int did(IommuDomain domain) {
        return data(domain).did;
    }

    private static SvaDomain data(IommuDomain domain) {
        return (SvaDomain) domain.driverData();
    }
}
