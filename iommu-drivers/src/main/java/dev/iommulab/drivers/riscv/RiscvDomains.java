package dev.iommulab.drivers.riscv;

import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IotlbGather;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.pgtable.IoPgtable;
import dev.iommulab.core.pgtable.IoPgtableFormat;
import dev.iommulab.hw.pgtable.RiscvPagingMode;
import dev.iommulab.hw.riscv.RiscvCommand;
import dev.iommulab.hw.riscv.RiscvDeviceContext;
import dev.iommulab.hw.riscv.RiscvProcessContext;
import dev.iommulab.hw.riscv.RiscvRegs;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The RISC-V driver's blocking, identity and paging domains (drivers/iommu/riscv/iommu.c). For a function
 * without PASID, as mainline does it through {@code riscv_iommu_iodir_update()}: the device context's
 * {@code fsc} (iosatp: Sv39/48/57 and the io-pgtable root, or Bare) and {@code ta} (the PSCID; its V goes to
 * {@code tc.V}) — paging: {@code fsc} = mode|root, valid; identity: {@code fsc} Bare, valid; blocking: not valid
 * ("translation requests will fault w/ #258"). {@code iohgatp} stays Bare. A valid context is first made invalid
 * and invalidated ({@code IODIR.INVAL_DDT}, {@code IOFENCE.C}), then rewritten with {@code tc} last.
 *
 * <p><b>Not in mainline</b> (no PASID there): a function with a process directory table has its RID translated
 * through process context 0 ({@code DC.tc.DPE}, the lab's probe), so the same domains are process contexts —
 * paging: {@code PC.fsc} = mode|root with {@code ta} = V|PSCID; identity: {@code fsc} Bare, V; blocking: not
 * valid — written as {@link PasidAttach} writes SVA ones and invalidated with {@code IODIR.INVAL_PDT}; the same
 * works at any PASID.
 *
 * <p>Each attachment of a paging domain is a bond ({@code riscv_iommu_bond_link()}); leaving a domain
 * invalidates its PSCID ({@code riscv_iommu_bond_unlink()}). {@link #iotlbSync} is
 * {@code riscv_iommu_iotlb_inval()}: {@code IOTINVAL.VMA} of the PSCID per 4 KiB page of the gathered range
 * below {@code RISCV_IOMMU_IOTLB_INVAL_LIMIT} (2 MiB), else of the whole PSCID — and of the whole PSCID when
 * tables were freed (non-leaf entries) — then, beyond mainline (which has no ATS), {@code ATS.INVAL} of the
 * range for every bonded ATS function, and {@code IOFENCE.C}.
 *
 * <p><b>Not in mainline</b> either: a paging domain with an {@code iopf_handler} (an iommufd HWPT with a fault
 * object) enables IOPF for the function, as the VT-d driver's iopf_for_domain_set() / _replace() / _remove() do
 * ({@link #replace}, {@link #block}); a function without {@code EN_PRI} in its device context — which includes
 * every function without PASID, whose context never gets ATS or PRI — is refused with ENODEV.
 */
final class RiscvDomains {

    /** RISCV_IOMMU_IOTLB_INVAL_LIMIT. */
    static final long IOTLB_INVAL_LIMIT = 2L << 20;

    /** One attachment ({@code struct riscv_iommu_bond}): the device and its process_id, -1 for the DC itself. */
    record Bond(RiscvDeviceInfo info, int pasid) {
    }

    private final RiscvIommuDriver driver;
    private final RiscvIommuDevice iommu;
    private final DeviceDirectory directory;
    private final CommandQueue cmdq;
    private final PasidAttach pasids;
    final IommuDomain blocked;
    final IommuDomain identity;
    private final Map<IommuDomain, List<Bond>> bonds = new IdentityHashMap<>();

    RiscvDomains(RiscvIommuDriver driver, RiscvIommuDevice iommu, DeviceDirectory directory, CommandQueue cmdq,
                 PasidAttach pasids) {
        this.driver = driver;
        this.iommu = iommu;
        this.directory = directory;
        this.cmdq = cmdq;
        this.pasids = pasids;
        this.blocked = new IommuDomain(DomainType.BLOCKED, driver, driver, null);
        this.identity = new IommuDomain(DomainType.IDENTITY, driver, driver, null);
    }

    /**
     * riscv_iommu_alloc_paging_domain(): the deepest of Sv57, Sv48, Sv39 the IOMMU has (ENODEV with none), the
     * root page, a PSCID; {@code amo_enabled} (A/D updated by the IOMMU) when it has AMO_HWAD. Nest parents
     * are not supported (EOPNOTSUPP).
     */
    IommuDomain allocPaging(int flags) {
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
        IoPgtable pt = IoPgtable.alloc(format, directory.frames(), iommu.hasCap(RiscvRegs.CAP_AMO_HWAD));
        int pscid;
        try {
            pscid = driver.allocPscid();
        } catch (KernelException e) {
            pt.free();
            throw e;
        }
        IommuDomain domain = IommuDomain.paging(driver, driver, pt);
        domain.setDriverData(pscid);
        return domain;
    }

    /**
     * The attach_dev of blocking, identity and paging domains (SVA: ENODEV), replacing {@code info.ridDomain}; the
     * IOPF of fault-capable domains as {@link #replace} and {@link #block} handle it.
     */
    void attachDev(IommuDomain domain, RiscvDeviceInfo info) {
        if (domain.type() == DomainType.BLOCKED && info.ridDomain == null) {
            return; // nothing attached since probe: the context is as probe left it, not translating
        }
        if (domain.type() == DomainType.BLOCKED) {
            block(info, IommuCore.IOMMU_NO_PASID, info.ridDomain);
        } else {
            replace(domain, info, IommuCore.IOMMU_NO_PASID, info.ridDomain);
        }
        info.ridDomain = domain.type() == DomainType.BLOCKED ? null : domain;
        iommu.trace("riscv_iommu_attach_dev", "%s: %s domain at the RID%s%s", info.dev.name(), domain.type(),
                info.pdt != 0 ? " (process context 0)" : "", domain.iopfHandler() != null ? ", fault-capable" : "");
    }

    /** set_dev_pasid (and its replace form, {@code old} non-null) of a non-SVA domain: process context of the PASID. */
    void setDevPasid(IommuDomain domain, RiscvDeviceInfo info, int pasid, IommuDomain old) {
        if (info.pdt == 0 || pasid >>> DeviceDirectory.pdtBits(info.pdtMode) != 0) {
            throw new KernelException(Errno.EINVAL, "pasid", pasid + " has no process context on " + info.dev);
        }
        replace(domain, info, pasid, old);
    }

    /** The blocked domain's set_dev_pasid for a non-SVA domain; see {@link #block}. */
    void removeDevPasid(RiscvDeviceInfo info, int pasid, IommuDomain domain) {
        block(info, pasid, domain);
    }

    /**
     * {@code domain} takes {@code pasid} (the RID for {@link IommuCore#IOMMU_NO_PASID}) from {@code old}.
     * <b>Beyond mainline</b> (no IOPF there), as the lab's VT-d driver does it: IOPF is enabled for a fault-capable
     * {@code domain} before the context is written, so moving between fault-capable domains never takes the device
     * off the iopf queue; the old domain's reference is dropped once the new context is in place; a failed write
     * drops only the new reference.
     *
     * @throws KernelException ENODEV for an SVA or NESTED domain, or for a fault-capable domain on a function
     *                         without {@code EN_PRI}; ENOMEM when a PDT level cannot be allocated
     */
    private void replace(IommuDomain domain, RiscvDeviceInfo info, int pasid, IommuDomain old) {
        long[] fscTa = fscTa(domain);
        pasids.iopfForDomainSet(domain, info);
        try {
            if (info.pdt != 0) {
                program(domain, fscTa, info, pasid, old);
            } else {
                iodirUpdate(info, fscTa[0], fscTa[1]);
                unbond(old, info, -1);
                bond(domain, info, -1);
            }
        } catch (KernelException e) {
            pasids.iopfForDomainRemove(domain, info);
            throw e;
        }
        pasids.iopfForDomainRemove(old, info);
    }

    /**
     * The blocking domain at {@code pasid} (the RID for {@link IommuCore#IOMMU_NO_PASID}) in place of
     * {@code old}: as the VT-d blocking domain, the IOPF reference of a fault-capable {@code old} first (the last one
     * removes the device from the iopf queue, answering its pending groups INVALID), then the context, then — with a
     * PDT, while another fault-capable attachment keeps IOPF on — the lab's page-request drain
     * ({@link PasidAttach#drainPageRequests}).
     */
    private void block(RiscvDeviceInfo info, int pasid, IommuDomain old) {
        pasids.iopfForDomainRemove(old, info);
        if (info.pdt != 0) {
            program(blocked, fscTa(blocked), info, pasid, old);
            pasids.drainPageRequests(info, pasid);
        } else {
            iodirUpdate(info, 0, 0);
            unbond(old, info, -1);
        }
    }

    /** fsc and ta of a domain: paging mode|root with V|PSCID; identity Bare with V; blocking Bare, not valid. */
    private static long[] fscTa(IommuDomain domain) {
        if (domain.type().isPaging() && domain.pgtable() == null) {
            throw new KernelException(Errno.EINVAL, "domain", "paging domain without a page table");
        }
        return switch (domain.type()) {
            case BLOCKED -> new long[] {0, 0};
            case IDENTITY -> new long[] {0, RiscvProcessContext.TA_V};
            case DMA, DMA_FQ, UNMANAGED -> new long[] {
                RiscvDeviceContext.encodeAtp(mode(domain.pgtable().format()).encoding(), domain.pgtable().root()),
                RiscvProcessContext.TA_V | RiscvDeviceContext.encodeTa((Integer) domain.driverData())};
            default -> throw new KernelException(Errno.ENODEV, "domain", domain.type() + " domains have no attach_dev");
        };
    }

    private static RiscvPagingMode mode(IoPgtableFormat format) {
        return switch (format) {
            case RISCV_SV39 -> RiscvPagingMode.SV39;
            case RISCV_SV48 -> RiscvPagingMode.SV48;
            case RISCV_SV57 -> RiscvPagingMode.SV57;
            default -> throw new KernelException(Errno.EINVAL, "domain", format + " is not a RISC-V format");
        };
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
    private void program(IommuDomain domain, long[] fscTa, RiscvDeviceInfo info, int pasid, IommuDomain old) {
        long pc = directory.pcAddress(info.pdt, info.pdtMode, pasid, true);
        iommu.memory.writeLong(pc + 8, fscTa[0]);
        iommu.memory.writeLong(pc, fscTa[1]);
        cmdq.sendAndSync(RiscvCommand.iodirInvalPdt(info.devid(), pasid));
        unbond(old, info, pasid);
        bond(domain, info, pasid);
        if (old != null && info.pci.atsEnabled()) {
            RiscvCommand inval = RiscvCommand.atsInval(info.devid(), pasid != 0, pasid, false, 0, 4096);
            cmdq.sendAndSync(new RiscvCommand(inval.qw0(), RiscvIommuDriver.ATS_INVAL_ALL));
        }
    }

    private void bond(IommuDomain domain, RiscvDeviceInfo info, int pasid) {
        if (domain.type().isPaging()) {
            bonds.computeIfAbsent(domain, k -> new ArrayList<>()).add(new Bond(info, pasid));
        }
    }

    /** riscv_iommu_bond_unlink(): the last bond of the domain on this IOMMU invalidates its PSCID. */
    private void unbond(IommuDomain domain, RiscvDeviceInfo info, int pasid) {
        List<Bond> list = domain == null ? null : bonds.get(domain);
        if (list == null || !list.removeIf(b -> b.info() == info && b.pasid() == pasid)) {
            return;
        }
        if (list.isEmpty()) {
            cmdq.sendAndSync(RiscvCommand.iotinvalVma(false, 0, true, (Integer) domain.driverData(), false, 0));
        }
    }

    List<Bond> bondsOf(IommuDomain domain) {
        return bonds.getOrDefault(domain, List.of());
    }

    /**
     * riscv_iommu_iotlb_inval() for the gathered range (see the class comment) and, for ATS functions, the
     * lab's {@code ATS.INVAL} of the naturally aligned block covering it.
     */
    void iotlbSync(IommuDomain domain, IotlbGather gather) {
        List<Bond> list = bondsOf(domain);
        if (list.isEmpty()) {
            return;
        }
        int pscid = (Integer) domain.driverData();
        long start = gather.start();
        long len = gather.end() - start + 1;
        List<RiscvCommand> cmds = new ArrayList<>();
        if (len < IOTLB_INVAL_LIMIT && gather.freelist().isEmpty()) {
            for (long iova = start; iova < gather.end(); iova += 4096) {
                cmds.add(RiscvCommand.iotinvalVma(false, 0, true, pscid, true, iova));
            }
        } else {
            cmds.add(RiscvCommand.iotinvalVma(false, 0, true, pscid, false, 0));
        }
        long size = 4096;
        while ((start & -size) != (gather.end() & -size)) {
            size <<= 1;
        }
        for (Bond b : list) {
            if (b.info().pci.atsEnabled()) {
                cmds.add(RiscvCommand.atsInval(b.info().devid(), b.pasid() > 0, Math.max(b.pasid(), 0), false,
                        start, size));
            }
        }
        boolean done = cmdq.sendAndSync(cmds.toArray(RiscvCommand[]::new));
        iommu.trace("riscv_iommu_iotlb_sync", "PSCID %d %#x..%#x: %d command(s)%s", pscid, start, gather.end(),
                cmds.size(), done ? "" : ", waiting for the Invalidate Completion");
    }

    /** riscv_iommu_iotlb_flush_all(): the whole PSCID, and every bonded ATS function's whole ATC. */
    void flushAll(IommuDomain domain) {
        List<RiscvCommand> cmds = new ArrayList<>();
        cmds.add(RiscvCommand.iotinvalVma(false, 0, true, (Integer) domain.driverData(), false, 0));
        for (Bond b : bondsOf(domain)) {
            if (b.info().pci.atsEnabled()) {
                RiscvCommand inval = RiscvCommand.atsInval(b.info().devid(), b.pasid() > 0, Math.max(b.pasid(), 0),
                        false, 0, 4096);
                cmds.add(new RiscvCommand(inval.qw0(), RiscvIommuDriver.ATS_INVAL_ALL));
            }
        }
        cmdq.sendAndSync(cmds.toArray(RiscvCommand[]::new));
    }
}
