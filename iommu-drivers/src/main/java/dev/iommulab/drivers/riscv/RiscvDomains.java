package dev.iommulab.drivers.riscv;

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
import dev.iommulab.hw.riscv.RiscvCommand;
import dev.iommulab.hw.riscv.RiscvDeviceContext;
import dev.iommulab.hw.riscv.RiscvProcessContext;
import dev.iommulab.hw.riscv.RiscvRegs;

/**
 * How the RISC-V driver allocates and attaches its blocking, identity and paging domains
 * (drivers/iommu/riscv/iommu.c). For a function without PASID, as mainline does it through
 * {@code riscv_iommu_iodir_update()}: the device context's {@code fsc} (iosatp: Sv39/48/57 and the io-pgtable root,
 * or Bare) and {@code ta} (the PSCID; its V goes to {@code tc.V}) — paging ({@link RiscvPagingDomain}): {@code fsc} =
 * mode|root, valid; identity ({@link RiscvIdentityDomain}): {@code fsc} Bare, valid; blocking
 * ({@link RiscvBlockedDomain}): not valid ("translation requests will fault w/ #258"). {@code iohgatp} stays Bare. A
 * valid context is first made invalid and invalidated ({@code IODIR.INVAL_DDT}, {@code IOFENCE.C}), then rewritten
 * with {@code tc} last.
 *
 * <p><b>Not in mainline</b> (no PASID there): a function with a process directory table has its RID translated
 * through process context 0 ({@code DC.tc.DPE}, the lab's probe), so the same domains are process contexts —
 * paging: {@code PC.fsc} = mode|root with {@code ta} = V|PSCID; identity: {@code fsc} Bare, V; blocking: not
 * valid — written as {@link PasidAttach} writes SVA ones and invalidated with {@code IODIR.INVAL_PDT}; the same
 * works at any PASID.
 *
 * <p>Each attachment of a paging domain is a bond ({@code riscv_iommu_bond_link()}); leaving a domain
 * invalidates its PSCID ({@code riscv_iommu_bond_unlink()}); see {@link RiscvPagingDomain} for its IOTLB flushes.
 *
 * <p><b>Not in mainline</b> either: a paging domain with an {@code iopf_handler} (an iommufd HWPT with a fault
 * object) enables IOPF for the function, as the VT-d driver's iopf_for_domain_set() / _replace() / _remove() do
 * ({@link #replace}, {@link #block}); a function without {@code EN_PRI} in its device context — which includes
 * every function without PASID, whose context never gets ATS or PRI — is refused with ENODEV.
 */
final class RiscvDomains implements AttachableDomain.Attacher<RiscvAttachableDomain> {

    /** RISCV_IOMMU_IOTLB_INVAL_LIMIT. */
    static final long IOTLB_INVAL_LIMIT = 2L << 20;

    private final RiscvUnit unit;
    private final RiscvIommuDevice iommu;
    private final CommandQueue cmdq;
    private final PasidAttach pasids;

    RiscvDomains(RiscvUnit unit, PasidAttach pasids) {
        this.unit = unit;
        this.iommu = unit.iommu();
        this.cmdq = unit.cmdq();
        this.pasids = pasids;
    }

    RiscvUnit unit() {
        return unit;
    }

    CommandQueue cmdq() {
        return cmdq;
    }

    /**
     * riscv_iommu_alloc_paging_domain(): the deepest of Sv57, Sv48, Sv39 the IOMMU has (ENODEV with none), the
     * root page, a PSCID; {@code amo_enabled} (A/D updated by the IOMMU) when it has AMO_HWAD. Nest parents
     * are not supported (EOPNOTSUPP).
     */
    IommuDomain allocPaging(IommuOps owner, int flags) {
        if (flags != 0) {
            throw new KernelException(Errno.EOPNOTSUPP, "flags", String.format("%#x", flags));
        }
        IoPgtableFormat format = iommu.hasCap(RiscvRegs.CAP_SV57) ? IoPgtableFormat.RISCV_SV57
                : iommu.hasCap(RiscvRegs.CAP_SV48) ? IoPgtableFormat.RISCV_SV48
                : iommu.hasCap(RiscvRegs.CAP_SV39) ? IoPgtableFormat.RISCV_SV39 : null;
        if (format == null) {
            iommu.devErr("cannot find supported page table mode");
            throw new KernelException(Errno.ENODEV, "dev", "no Sv39/Sv48/Sv57 on " + iommu.name);
        }
        IoPgtable pt = IoPgtable.alloc(format, unit.directory().frames(), iommu.hasCap(RiscvRegs.CAP_AMO_HWAD));
        int pscid;
        try {
            pscid = unit.allocPscid();
        } catch (KernelException e) {
            pt.free();
            throw e;
        }
        return new RiscvPagingDomain(owner, this, pt, pscid).domain();
    }

    /**
     * Counterpart of riscv_iommu_attach_paging_domain() and riscv_iommu_attach_identity_domain(): {@link #replace} at
     * the RID, in place of what was there; beyond mainline, a fault-capable paging domain enables IOPF, as on VT-d.
     */
    @Override
    public void attachDev(RiscvAttachableDomain domain, Device dev) {
        RiscvDeviceInfo info = unit.info(dev);
        replace(domain, info, IommuCore.IOMMU_NO_PASID, info.ridDomain());
        traceAttach(domain.domain(), info);
    }

    void traceAttach(IommuDomain domain, RiscvDeviceInfo info) {
        iommu.trace("riscv_iommu_attach_dev", "%s: %s domain at the RID%s%s", info.dev().name(), domain.type(),
                info.pdt != 0 ? " (process context 0)" : "", domain.iopfHandler() != null ? ", fault-capable" : "");
    }

    /**
     * {@code set_dev_pasid} (not in mainline) of a blocking, identity or paging domain: the process context of the
     * PASID, IOPF for a fault-capable domain. Its replace form ({@code old} non-null, not in mainline either) enables
     * the new domain's IOPF before the old one's is dropped; replacing an SVA attachment is not modelled (EOPNOTSUPP).
     *
     * @throws KernelException EINVAL when the device has no PDT or {@code pasid} is beyond it, ENODEV for a
     *         fault-capable domain on a function without PRI, ENOMEM when a PDT level cannot be allocated (IOPF is
     *         then disabled again)
     */
    @Override
    public void setDevPasid(RiscvAttachableDomain domain, Device dev, int pasid, IommuDomain old) {
        if (old != null && old.type() == DomainType.SVA) {
            throw new KernelException(Errno.EOPNOTSUPP, "domain", "replacing an SVA attachment is not modelled");
        }
        RiscvDeviceInfo info = unit.info(dev);
        if (info.pdt == 0 || pasid >>> DeviceDirectory.pdtBits(info.pdtMode) != 0) {
            throw new KernelException(Errno.EINVAL, "pasid", pasid + " has no process context on " + info.dev());
        }
        replace(domain, info, pasid, info.attached(pasid, old));
    }

    /**
     * {@code domain} takes {@code pasid} (the RID for {@link IommuCore#IOMMU_NO_PASID}) from {@code old}.
     * <b>Beyond mainline</b> (no IOPF there), as the lab's VT-d driver does it: IOPF is enabled for a fault-capable
     * {@code domain} before the context is written, so moving between fault-capable domains never takes the device
     * off the iopf queue; the old domain's reference is dropped once the new context is in place; a failed write
     * drops only the new reference.
     *
     * @throws KernelException ENODEV for a fault-capable domain on a function without {@code EN_PRI}; ENOMEM when a
     *                         PDT level cannot be allocated
     */
    private void replace(RiscvAttachableDomain domain, RiscvDeviceInfo info, int pasid, RiscvDomain old) {
        unit.iopfRefs().forDomainSet(domain.domain(), info);
        try {
            if (info.pdt != 0) {
                program(domain, info, pasid, old);
            } else {
                iodirUpdate(info, domain.context.fsc(), domain.context.ta());
                if (old != null) {
                    old.unbond(info, -1);
                }
                domain.bond(info, -1);
            }
        } catch (KernelException e) {
            unit.iopfRefs().forDomainRemove(domain.domain(), info);
            throw e;
        }
        unit.iopfRefs().forDomainRemove(old == null ? null : old.domain(), info);
        info.setAttached(pasid, domain);
    }

    /**
     * The blocking domain at {@code pasid} (the RID for {@link IommuCore#IOMMU_NO_PASID}) in place of
     * {@code old}: as the VT-d blocking domain, the IOPF reference of a fault-capable {@code old} first (the last one
     * removes the device from the iopf queue, answering its pending groups INVALID), then the context, then — with a
     * PDT, while another fault-capable attachment keeps IOPF on — the lab's page-request drain
     * ({@link PasidAttach#drainPageRequests}).
     */
    void block(RiscvBlockedDomain blocked, RiscvDeviceInfo info, int pasid, RiscvDomain old) {
        unit.iopfRefs().forDomainRemove(old.domain(), info);
        if (info.pdt != 0) {
            program(blocked, info, pasid, old);
            pasids.drainPageRequests(info, pasid);
        } else {
            iodirUpdate(info, 0, 0);
            old.unbond(info, -1);
        }
        info.setAttached(pasid, null);
    }

    /**
     * riscv_iommu_iodir_update() for one device context: a valid one is made invalid and invalidated first;
     * then {@code fsc}, {@code ta} (PSCID) and {@code tc} (V from {@code ta}) last, {@code IODIR.INVAL_DDT},
     * {@code IOFENCE.C}.
     */
    private void iodirUpdate(RiscvDeviceInfo info, long fsc, long ta) {
        long tc = iommu.memory.readLong(info.dc);
        if ((tc & RiscvDeviceContext.TC_V) != 0) {
            iommu.memory.writeLong(info.dc, tc & ~RiscvDeviceContext.TC_V);
            cmdq.sendAndSync(RiscvCommand.iodirInvalDdt(true, info.devid()));
        }
        tc = tc & ~RiscvDeviceContext.TC_V | ta & RiscvDeviceContext.TC_V;
        iommu.memory.writeLong(info.dc + 24, fsc);
        iommu.memory.writeLong(info.dc + 16, ta & ~RiscvProcessContext.TA_V);
        iommu.memory.writeLong(info.dc, tc);
        cmdq.sendAndSync(RiscvCommand.iodirInvalDdt(true, info.devid()));
    }

    /**
     * The process context of {@code pasid} (0: the RID through DPE): written ({@code fsc} first, then {@code ta}),
     * {@code IODIR.INVAL_PDT} and {@code IOFENCE.C}; then the old domain is unbonded (its PSCID and the function's
     * ATC for that process_id invalidated).
     *
     * @throws KernelException ENOMEM when a PDT level cannot be allocated (nothing written)
     */
    private void program(RiscvAttachableDomain domain, RiscvDeviceInfo info, int pasid, RiscvDomain old) {
        long pc = unit.directory().pcAddress(info.pdt, info.pdtMode, pasid, true);
        iommu.memory.writeLong(pc + 8, domain.context.fsc());
        iommu.memory.writeLong(pc, domain.context.ta());
        cmdq.sendAndSync(RiscvCommand.iodirInvalPdt(info.devid(), pasid));
        if (old != null) {
            old.unbond(info, pasid);
        }
        domain.bond(info, pasid);
        if (old != null && info.pci().atsEnabled()) {
            RiscvCommand inval = RiscvCommand.atsInval(info.devid(), pasid != 0, pasid, false, 0, 4096);
            cmdq.sendAndSync(new RiscvCommand(inval.qw0(), RiscvIommuDriver.ATS_INVAL_ALL));
        }
    }
}
