package dev.iommulab.drivers.intel;

import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.pgtable.IoPgtable;
import dev.iommulab.core.pgtable.IoPgtableFormat;
import dev.iommulab.hw.vtd.QiDescriptor;
import dev.iommulab.hw.vtd.VtdRegs;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The VT-d driver's domains other than SVA (intel/iommu.c, intel/pasid.c, intel/nested.c), in scalable mode:
 * what each type means in the PASID entry of the RID ({@code IOMMU_NO_PASID}, the context's RID_PASID) or of a
 * PASID —
 * <ul>
 *   <li>BLOCKED ({@code blocking_domain}, {@code device_block_translation()}): the entry is torn down, not
 *       present (fault 0x59 for what arrives); a device that never had anything attached is left alone;</li>
 *   <li>IDENTITY ({@code identity_domain}, {@code intel_pasid_setup_pass_through()}): PGTT 100b with
 *       {@code FLPT_DEFAULT_DID};</li>
 *   <li>paging, DMA or UNMANAGED ({@code domain_setup_first_level()}/{@code _second_level()}): first stage
 *       (PGTT 001b, FLPTPTR = the io-pgtable root) when the unit has both stages
 *       ({@code first_level_by_default()}), second stage (PGTT 010b, SLPTPTR) for a nest parent;</li>
 *   <li>NESTED ({@code intel_pasid_setup_nested()}): PGTT 011b, the guest's first-stage table translated by the
 *       parent's second stage.</li>
 * </ul>
 * Replacing a present entry writes the new one over it and then flushes what the old one may have cached
 * ({@code intel_pasid_flush_present()}: PASID cache, PASID-IOTLB or domain IOTLB by the old PGTT, device-TLB).
 * Each attachment of a paging domain is a cache tag; {@link #iotlbSync} flushes the gathered range for every tag
 * ({@code cache_tag_flush_range()}): page-selective PASID-IOTLB for a first stage, page-selective IOTLB (or
 * domain-selective past CAP.MAMV) for a second stage, then the device-TLB of ATS functions.
 */
final class IntelDomains {

    /** FLPT_DEFAULT_DID: the domain ID of pass-through entries. */
    static final int FLPT_DEFAULT_DID = 1;
    /** cap_max_amask_val() of the model (QiExecutor.MAMV). */
    static final int MAX_AMASK = 9;
    /** MAX_AGAW_PFN_WIDTH. */
    static final int MAX_AGAW_PFN_WIDTH = 52;

    /** One attachment of a domain ({@code struct cache_tag}): the device, the PASID and the DID it uses. */
    record Tag(DeviceInfo info, int pasid, int did, boolean firstStage) {
    }

    /** The guest first stage of a NESTED domain ({@code struct iommu_hwpt_vtd_s1}). */
    record Nested(long s1Table) {
    }

    private final IntelIommu iommu;
    final IommuDomain blocked;
    final IommuDomain identity;
    private final Map<IommuDomain, List<Tag>> tags = new IdentityHashMap<>();
    private final Map<IommuDomain, Nested> nested = new IdentityHashMap<>();

    IntelDomains(IntelIommu iommu) {
        this.iommu = iommu;
        this.blocked = new IommuDomain(DomainType.BLOCKED, iommu, iommu, null);
        this.identity = new IommuDomain(DomainType.IDENTITY, iommu, iommu, null);
        identity.setDriverData(FLPT_DEFAULT_DID);
    }

    /** first_level_by_default(): scalable mode, and the first stage unless only the second is supported. */
    private boolean firstLevelByDefault() {
        long ecap = iommu.unit().readReg(VtdRegs.ECAP);
        boolean fl = (ecap & VtdRegs.ECAP_FLTS) != 0;
        boolean sl = (ecap & VtdRegs.ECAP_SLTS) != 0;
        return (ecap & VtdRegs.ECAP_SMTS) != 0 && (fl ^ sl ? fl : true);
    }

    /**
     * intel_iommu_domain_alloc_paging_flags(): a first-stage domain by default, a second-stage one for a nest
     * parent; the page table first, then a domain ID.
     */
    IommuDomain allocPaging(Device dev, int flags) {
        iommu.info(dev);
        if ((flags & ~IommuCore.HWPT_ALLOC_NEST_PARENT) != 0) {
            throw new KernelException(Errno.EOPNOTSUPP, "flags", String.format("%#x", flags));
        }
        boolean firstStage = (flags & IommuCore.HWPT_ALLOC_NEST_PARENT) == 0 && firstLevelByDefault();
        IoPgtable pt = IoPgtable.alloc(firstStage ? IoPgtableFormat.VTD_FIRST_STAGE
                : IoPgtableFormat.VTD_SECOND_STAGE, iommu.frames(), false);
        int did;
        try {
            did = iommu.allocDomainId();
        } catch (KernelException e) {
            pt.free();
            throw e;
        }
        IommuDomain domain = IommuDomain.paging(iommu, iommu, pt);
        domain.setDriverData(did);
        return domain;
    }

    /**
     * intel_iommu_domain_alloc_nested(): the parent must be a second-stage (nest parent) domain; the guest table
     * is 4-level (48-bit) and page aligned.
     */
    IommuDomain allocNested(Device dev, IommuDomain parent, long s1Table, int addressWidth) {
        iommu.info(dev);
        if (parent.pgtable() == null || parent.pgtable().format() != IoPgtableFormat.VTD_SECOND_STAGE) {
            throw new KernelException(Errno.EINVAL, "parent", "not a nest-parent (second-stage) domain");
        }
        if (addressWidth != 48 || (s1Table & 0xfff) != 0 || s1Table < 0) {
            throw new KernelException(Errno.EINVAL, "s1Table", String.format("%#x / %d bits: need a 4 KiB aligned "
                    + "4-level table", s1Table, addressWidth));
        }
        IommuDomain domain = IommuDomain.nested(iommu, iommu, parent);
        domain.setDriverData(iommu.allocDomainId());
        nested.put(domain, new Nested(s1Table));
        return domain;
    }

    /**
     * attach_dev of every non-SVA type at the RID, replacing {@code info.ridDomain}. BLOCKED
     * ({@code blocking_domain_attach_dev()}): the IOPF reference of the old domain is dropped first, then the entry
     * is torn down (drained only while IOPF stays on). Any other type: {@link #replace} with IOPF for a
     * fault-capable domain.
     */
    void attachDev(IommuDomain domain, DeviceInfo info) {
        if (domain.type() == DomainType.BLOCKED) {
            if (info.ridDomain != null) {
                iommu.iopfForDomainRemove(info.ridDomain, info);
                tearDown(info, IommuCore.IOMMU_NO_PASID, info.ridDomain);
                info.ridDomain = null;
            }
            return;
        }
        replace(domain, info, IommuCore.IOMMU_NO_PASID, info.ridDomain);
        info.ridDomain = domain;
    }

    /** set_dev_pasid of a non-SVA domain, replacing {@code old} (null: the PASID was blocked); see {@link #replace}. */
    void setDevPasid(IommuDomain domain, DeviceInfo info, int pasid, IommuDomain old) {
        if (!info.pci.pasidEnabled()) {
            throw new KernelException(Errno.EOPNOTSUPP, "dev", info.dev + " has PASID disabled");
        }
        replace(domain, info, pasid, old);
    }

    /**
     * The blocked domain's set_dev_pasid for a non-SVA domain ({@code blocking_domain_set_dev_pasid()}): the IOPF
     * reference first (the last one removes the device from the iopf queue, answering its pending groups), then
     * the teardown, which drains only while IOPF stays on.
     */
    void removeDevPasid(DeviceInfo info, int pasid, IommuDomain domain) {
        iommu.iopfForDomainRemove(domain, info);
        tearDown(info, pasid, domain);
    }

    private int did(IommuDomain domain) {
        return (Integer) domain.driverData();
    }

    /**
     * {@code domain} takes the entry of {@code pasid} (RID_PASID for {@link IommuCore#IOMMU_NO_PASID}) from
     * {@code old} (intel_iommu_attach_device(), intel_iommu_set_dev_pasid(), intel_nested_attach_dev(),
     * intel_nested_set_dev_pasid()), with iopf_for_domain_replace() split around the setup: IOPF is enabled for a
     * fault-capable {@code domain} before the entry is written, so a device moving from one fault-capable domain to
     * another never leaves the iopf queue and its pending groups stay owed; the old domain's reference is dropped
     * only once the new entry is in place. The kernel drops it before the setup and takes it back on the unwind
     * path; here a failed setup only drops the new reference, so a failure leaves nothing behind (not even a
     * remove-and-add of the device on the iopf queue).
     *
     * @throws KernelException EINVAL/ENODEV for a domain this unit cannot attach there; ENODEV for a fault-capable
     *                         domain on a device without PRI; ENOMEM when a PASID table cannot be allocated
     */
    private void replace(IommuDomain domain, DeviceInfo info, int pasid, IommuDomain old) {
        checkAttachable(domain, pasid);
        iommu.iopfForDomainSet(domain, info);
        try {
            program(domain, info, pasid, old);
        } catch (KernelException e) {
            iommu.iopfForDomainRemove(domain, info); // out_unwind_iopf
            throw e;
        }
        iommu.iopfForDomainRemove(old, info);
    }

    /** paging_domain_compatible() and the op tables: what this unit cannot attach at all, before anything is done. */
    private void checkAttachable(IommuDomain domain, int pasid) {
        if (domain.type().isPaging() && domain.pgtable() == null || domain.driverData() == null) {
            throw new KernelException(Errno.EINVAL, "domain", domain.type() + " domain not allocated by " + iommu.name());
        }
        if (domain.type() == DomainType.SVA || domain.type() == DomainType.BLOCKED) {
            throw noAttach(domain, pasid);
        }
    }

    private void program(IommuDomain domain, DeviceInfo info, int pasid, IommuDomain old) {
        PasidTables tables = iommu.tables();
        int oldPgtt = tables.pgtt(info.pasidDir, pasid);
        int oldDid = tables.did(info.pasidDir, pasid);
        int did = did(domain);
        boolean firstStage = false;
        switch (domain.type()) {
            case IDENTITY -> tables.setupPassThrough(info.pasidDir, pasid, FLPT_DEFAULT_DID);
            case DMA, DMA_FQ, UNMANAGED -> {
                IoPgtable pt = domain.pgtable();
                firstStage = pt.format() == IoPgtableFormat.VTD_FIRST_STAGE;
                if (firstStage) {
                    tables.setupFirstLevel(info.pasidDir, pasid, pt.root(), did);
                } else {
                    tables.setupSecondLevel(info.pasidDir, pasid, pt.root(), did);
                }
            }
            case NESTED -> tables.setupNested(info.pasidDir, pasid, nested.get(domain).s1Table(),
                    domain.parent().pgtable().root(), did);
            default -> throw noAttach(domain, pasid);
        }
        if (oldPgtt != 0) {
            iommu.teardown().flushPresent(info, pasid, oldDid, oldPgtt);
            iommu.teardown().drainPasidPrq(info, pasid); // intel_pasid_replace_*()
        }
        untag(old, info, pasid);
        tag(domain, new Tag(info, pasid, did, firstStage));
        iommu.trace(old == null ? "domain_setup" : "intel_pasid_replace", "%s PASID %d: %s domain, DID %d%s%s",
                info.dev.name(), pasid, domain.type(), did, old == null ? "" : " (was " + old.type() + ", DID " + oldDid + ")",
                domain.iopfHandler() != null ? ", fault-capable" : "");
    }

    private static KernelException noAttach(IommuDomain domain, int pasid) {
        return new KernelException(Errno.ENODEV, "domain", domain.type() + " domains have no "
                + (pasid == IommuCore.IOMMU_NO_PASID ? "attach_dev" : "set_dev_pasid") + " here");
    }

    /** intel_pasid_tear_down_entry(..., fault_ignore = false) for a domain the core detaches. */
    private void tearDown(DeviceInfo info, int pasid, IommuDomain domain) {
        iommu.teardown().tearDownEntry(info, pasid, false);
        untag(domain, info, pasid);
    }

    private void tag(IommuDomain domain, Tag t) {
        if (domain.type().isPaging()) {
            tags.computeIfAbsent(domain, k -> new ArrayList<>()).add(t);
        } else if (domain.type() == DomainType.NESTED) {
            tags.computeIfAbsent(domain.parent(), k -> new ArrayList<>()).add(t);
        }
    }

    private void untag(IommuDomain domain, DeviceInfo info, int pasid) {
        if (domain == null) {
            return;
        }
        IommuDomain owner = domain.type() == DomainType.NESTED ? domain.parent() : domain;
        List<Tag> list = tags.get(owner);
        if (list != null) {
            list.removeIf(t -> t.info() == info && t.pasid() == pasid);
        }
    }

    /** The cache tags of a paging domain (its attachments, and those of domains nested on it). */
    List<Tag> tagsOf(IommuDomain domain) {
        return tags.getOrDefault(domain, List.of());
    }

    /** Device-TLB invalidation of every address of the RID ({@code pasid} 0) or of a PASID. */
    static QiDescriptor deviceTlbAll(int rid, int pasid) {
        if (pasid != IommuCore.IOMMU_NO_PASID) {
            return QiDescriptor.pasidDeviceTlbAll(rid, pasid);
        }
        return new QiDescriptor(QiDescriptor.TYPE_DEVICE_TLB | (long) (rid & 0xffff) << 32,
                0x7fff_ffff_ffff_f000L | 1L, 0, 0);
    }
}
