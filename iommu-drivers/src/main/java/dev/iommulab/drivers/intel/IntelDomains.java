package dev.iommulab.drivers.intel;

import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuOps;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.pgtable.IoPgtable;
import dev.iommulab.core.pgtable.IoPgtableFormat;
import dev.iommulab.drivers.AttachableDomain;
import dev.iommulab.hw.vtd.QiDescriptor;
import dev.iommulab.hw.vtd.VtdRegs;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * How the VT-d driver allocates and attaches its domains other than SVA (intel/iommu.c, intel/pasid.c,
 * intel/nested.c), in scalable mode: what each type means in the PASID entry of the RID ({@code IOMMU_NO_PASID}, the
 * context's RID_PASID) or of a PASID —
 * <ul>
 *   <li>BLOCKED ({@link IntelBlockedDomain}, {@code device_block_translation()}): the entry is torn down, not
 *       present (fault 0x59 for what arrives); a device that never had anything attached is left alone;</li>
 *   <li>IDENTITY ({@link IntelIdentityDomain}, {@code intel_pasid_setup_pass_through()}): PGTT 100b with
 *       {@code FLPT_DEFAULT_DID};</li>
 *   <li>paging, DMA or UNMANAGED ({@link IntelPagingDomain}, {@code domain_setup_first_level()} /
 *       {@code _second_level()}): first stage (PGTT 001b, FLPTPTR = the io-pgtable root) when the unit has both
 *       stages ({@code first_level_by_default()}), second stage (PGTT 010b, SLPTPTR) for a nest parent;</li>
 *   <li>NESTED ({@link IntelNestedDomain}, {@code intel_pasid_setup_nested()}): PGTT 011b, the guest's first-stage
 *       table translated by the parent's second stage.</li>
 * </ul>
 * Replacing a present entry writes the new one over it and then flushes what the old one may have cached
 * ({@code intel_pasid_flush_present()}: PASID cache, PASID-IOTLB or domain IOTLB by the old PGTT, device-TLB).
 * Each attachment of a paging domain is a cache tag ({@link CacheTags}); the paging domain's iotlb_sync flushes the
 * gathered range for every tag ({@code cache_tag_flush_range()}): page-selective PASID-IOTLB for a first stage,
 * page-selective IOTLB (or domain-selective past CAP.MAMV) for a second stage, then the device-TLB of ATS functions.
 */
final class IntelDomains implements AttachableDomain.Attacher<IntelAttachableDomain> {

    /** FLPT_DEFAULT_DID: the domain ID of pass-through entries. */
    static final int FLPT_DEFAULT_DID = 1;
    /** cap_max_amask_val() of the model (QiExecutor.MAMV). */
    static final int MAX_AMASK = 9;
    /** MAX_AGAW_PFN_WIDTH. */
    static final int MAX_AGAW_PFN_WIDTH = 52;

    private final IntelUnit unit;
    private final PasidTeardown teardown;
    private final CacheTags cacheTags;
    /** The second-stage paging domains of this unit, the parents a nested domain may name. */
    private final Map<IommuDomain, IntelPagingDomain> secondStage = new IdentityHashMap<>();

    IntelDomains(IntelUnit unit, PasidTeardown teardown, CacheTags cacheTags) {
        this.unit = unit;
        this.teardown = teardown;
        this.cacheTags = cacheTags;
    }

    IntelUnit unit() {
        return unit;
    }

    PasidTeardown teardown() {
        return teardown;
    }

    CacheTags cacheTags() {
        return cacheTags;
    }

    /** first_level_by_default(): scalable mode, and the first stage unless only the second is supported. */
    private boolean firstLevelByDefault() {
        long ecap = unit.unit().readReg(VtdRegs.ECAP);
        boolean fl = (ecap & VtdRegs.ECAP_FLTS) != 0;
        boolean sl = (ecap & VtdRegs.ECAP_SLTS) != 0;
        return (ecap & VtdRegs.ECAP_SMTS) != 0 && (fl ^ sl ? fl : true);
    }

    /**
     * intel_iommu_domain_alloc_paging_flags(): a first-stage domain by default, a second-stage one for a nest
     * parent; the page table first, then a domain ID.
     */
    IommuDomain allocPaging(IommuOps owner, Device dev, int flags) {
        unit.info(dev);
        if ((flags & ~IommuCore.HWPT_ALLOC_NEST_PARENT) != 0) {
            throw new KernelException(Errno.EOPNOTSUPP, "flags", String.format("%#x", flags));
        }
        boolean firstStage = (flags & IommuCore.HWPT_ALLOC_NEST_PARENT) == 0 && firstLevelByDefault();
        IoPgtable pt = IoPgtable.alloc(firstStage ? IoPgtableFormat.VTD_FIRST_STAGE
                : IoPgtableFormat.VTD_SECOND_STAGE, unit.frames(), false);
        int did;
        try {
            did = unit.allocDomainId();
        } catch (KernelException e) {
            pt.free();
            throw e;
        }
        IntelPagingDomain domain = new IntelPagingDomain(owner, this, pt, did);
        if (!domain.firstStage()) {
            secondStage.put(domain.domain(), domain);
        }
        return domain.domain();
    }

    /**
     * intel_iommu_domain_alloc_nested(): the parent must be a second-stage (nest parent) domain of this unit; the
     * guest table is 4-level (48-bit) and page aligned.
     */
    IommuDomain allocNested(IommuOps owner, Device dev, IommuDomain parent, long s1Table, int addressWidth) {
        unit.info(dev);
        IntelPagingDomain s2 = secondStage.get(parent);
        if (s2 == null) {
            throw new KernelException(Errno.EINVAL, "parent", "not a nest-parent (second-stage) domain");
        }
        if (addressWidth != 48 || (s1Table & 0xfff) != 0 || s1Table < 0) {
            throw new KernelException(Errno.EINVAL, "s1Table", String.format("%#x / %d bits: need a 4 KiB aligned "
                    + "4-level table", s1Table, addressWidth));
        }
        return new IntelNestedDomain(owner, this, s2, s1Table, unit.allocDomainId()).domain();
    }

    /** The paging domain's free op: it can no longer be named as a parent. */
    void forget(IntelPagingDomain domain) {
        secondStage.remove(domain.domain());
    }

    /**
     * Counterpart of intel_iommu_attach_device() (paging), identity_domain_attach_dev() and
     * intel_nested_attach_dev(): the RID_PASID entry, IOPF for a fault-capable domain (ENODEV without PRI);
     * {@link #replace} at the RID, in place of what was there.
     */
    @Override
    public void attachDev(IntelAttachableDomain domain, Device dev) {
        DeviceInfo info = unit.info(dev);
        replace(domain, info, IommuCore.IOMMU_NO_PASID, info.ridDomain());
    }

    /**
     * Counterpart of intel_iommu_set_dev_pasid(), identity_domain_set_dev_pasid() and intel_nested_set_dev_pasid()
     * where nothing was attached ({@code old} null: the PASID was blocked); see {@link #replace}.
     *
     * <p>The same with {@code old} (iommu_replace_device_pasid()): the new entry is written over the old one, whose
     * caches are flushed; IOPF of a fault-capable new domain is enabled before the old one's is dropped. Replacing
     * an SVA attachment is not modelled (EOPNOTSUPP).
     */
    @Override
    public void setDevPasid(IntelAttachableDomain domain, Device dev, int pasid, IommuDomain old) {
        DeviceInfo info = unit.info(dev);
        if (old != null && old.type() == DomainType.SVA) {
            throw new KernelException(Errno.EOPNOTSUPP, "domain", "replacing an SVA attachment is not modelled");
        }
        if (!info.pci().pasidEnabled()) {
            throw new KernelException(Errno.EOPNOTSUPP, "dev", info.dev() + " has PASID disabled");
        }
        replace(domain, info, pasid, info.attached(pasid, old));
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
     * @throws KernelException ENODEV for a fault-capable domain on a device without PRI; ENOMEM when a PASID table
     *                         cannot be allocated
     */
    private void replace(IntelAttachableDomain domain, DeviceInfo info, int pasid, IntelDomain old) {
        unit.iopfRefs().forDomainSet(domain.domain(), info);
        try {
            program(domain, info, pasid, old);
        } catch (KernelException e) {
            unit.iopfRefs().forDomainRemove(domain.domain(), info); // out_unwind_iopf
            throw e;
        }
        unit.iopfRefs().forDomainRemove(old == null ? null : old.domain(), info);
        info.setAttached(pasid, domain);
    }

    /**
     * Writes {@code domain}'s entry at {@code pasid}. Where an entry was present this is the Counterpart of
     * intel_pasid_replace_first_level() and of its second-level, pass-through and nested siblings (the reference
     * names them together as intel_pasid_replace_*()): the old entry's caches are flushed and its page requests
     * drained; then the cache tags move from {@code old} to {@code domain}.
     */
    private void program(IntelAttachableDomain domain, DeviceInfo info, int pasid, IntelDomain old) {
        PasidTables tables = unit.tables();
        int oldPgtt = tables.pgtt(info.pasidDir, pasid);
        int oldDid = tables.did(info.pasidDir, pasid);
        domain.setupEntry(tables, info.pasidDir, pasid);
        if (oldPgtt != 0) {
            teardown.flushPresent(info, pasid, oldDid, oldPgtt);
            teardown.drainPasidPrq(info, pasid); // intel_pasid_replace_*()
        }
        if (old != null) {
            old.unassignTag(info, pasid);
        }
        domain.assignTag(info, pasid);
        IommuDomain d = domain.domain();
        unit.trace(old == null ? "domain_setup" : "intel_pasid_replace", "%s PASID %d: %s domain, DID %d%s%s",
                info.dev().name(), pasid, d.type(), domain.did(),
                old == null ? "" : " (was " + old.domain().type() + ", DID " + oldDid + ")",
                d.iopfHandler() != null ? ", fault-capable" : "");
    }

    /** The ENODEV of a domain type without attach_dev (the RID) or set_dev_pasid (a PASID) here. */
    static KernelException noAttach(IommuDomain domain, int pasid) {
        return new KernelException(Errno.ENODEV, "domain", domain.type() + " domains have no "
                + (pasid == IommuCore.IOMMU_NO_PASID ? "attach_dev" : "set_dev_pasid") + " here");
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
