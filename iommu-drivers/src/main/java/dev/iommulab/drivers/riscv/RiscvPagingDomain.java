package dev.iommulab.drivers.riscv;

import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuOps;
import dev.iommulab.core.IotlbGather;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.pgtable.IoPgtable;
import dev.iommulab.core.pgtable.IoPgtableFormat;
import dev.iommulab.hw.pgtable.RiscvPagingMode;
import dev.iommulab.hw.riscv.RiscvCommand;
import dev.iommulab.hw.riscv.RiscvDeviceContext;
import dev.iommulab.hw.riscv.RiscvProcessContext;
import java.util.ArrayList;
import java.util.List;

/**
 * A paging domain ({@code struct riscv_iommu_domain} with {@code riscv_iommu_paging_domain_ops}): its io-pgtable
 * (Sv39/48/57), its PSCID and its bonds ({@code domain->bonds}), one per attachment. Its iotlb_sync is
 * {@code riscv_iommu_iotlb_inval()}: {@code IOTINVAL.VMA} of the PSCID per 4 KiB page of the gathered range below
 * {@code RISCV_IOMMU_IOTLB_INVAL_LIMIT} (2 MiB), else of the whole PSCID — and of the whole PSCID when tables were
 * freed (non-leaf entries) — then, beyond mainline (which has no ATS), {@code ATS.INVAL} of the range for every
 * bonded ATS function, and {@code IOFENCE.C}.
 */
final class RiscvPagingDomain extends RiscvAttachableDomain {

    /** One attachment ({@code struct riscv_iommu_bond}): the device and its process_id, -1 for the DC itself. */
    private record Bond(RiscvDeviceInfo info, int pasid) {
    }

    private final int pscid;
    private final List<Bond> bonds = new ArrayList<>();

    /** The context: {@code fsc} the mode and the io-pgtable root, {@code ta} V and the PSCID. */
    RiscvPagingDomain(IommuOps owner, RiscvDomains domains, IoPgtable pgtable, int pscid) {
        super(domains, ops -> IommuDomain.paging(owner, ops, pgtable), RiscvProcessContext.of(pscid, 0,
                RiscvDeviceContext.encodeAtp(mode(pgtable.format()).encoding(), pgtable.root())));
        this.pscid = pscid;
    }

    private static RiscvPagingMode mode(IoPgtableFormat format) {
        return switch (format) {
            case RISCV_SV39 -> RiscvPagingMode.SV39;
            case RISCV_SV48 -> RiscvPagingMode.SV48;
            case RISCV_SV57 -> RiscvPagingMode.SV57;
            default -> throw new KernelException(Errno.EINVAL, "domain", format + " is not a RISC-V format");
        };
    }

    /** The PSCID that tags this domain's IOTLB entries. */
    int pscid() {
        return pscid;
    }

    @Override
    public void bond(RiscvDeviceInfo info, int pasid) {
        bonds.add(new Bond(info, pasid));
    }

    /** riscv_iommu_bond_unlink(): the last bond of the domain on this IOMMU invalidates its PSCID. */
    @Override
    public void unbond(RiscvDeviceInfo info, int pasid) {
        if (!bonds.removeIf(b -> b.info() == info && b.pasid() == pasid)) {
            return;
        }
        if (bonds.isEmpty()) {
            domains.cmdq().sendAndSync(RiscvCommand.iotinvalVma(false, 0, true, pscid, false, 0));
        }
    }

    /**
     * Counterpart of riscv_iommu_iotlb_sync(): riscv_iommu_iotlb_inval() for the gathered range (see the class
     * comment) and, for ATS functions, the lab's {@code ATS.INVAL} of the naturally aligned block covering it.
     */
    @Override
    public void iotlbSync(IommuDomain d, IotlbGather gather) {
        if (bonds.isEmpty()) {
            return;
        }
        long start = gather.start();
        long len = gather.end() - start + 1;
        List<RiscvCommand> cmds = new ArrayList<>();
        if (len < RiscvDomains.IOTLB_INVAL_LIMIT && gather.freelist().isEmpty()) {
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
        for (Bond b : bonds) {
            if (b.info().pci().atsEnabled()) {
                cmds.add(RiscvCommand.atsInval(b.info().devid(), b.pasid() > 0, Math.max(b.pasid(), 0), false,
                        start, size));
            }
        }
        boolean done = domains.cmdq().sendAndSync(cmds.toArray(RiscvCommand[]::new));
        domains.unit().iommu().trace("riscv_iommu_iotlb_sync", "PSCID %d %#x..%#x: %d command(s)%s", pscid, start,
                gather.end(), cmds.size(), done ? "" : ", waiting for the Invalidate Completion");
    }

    /** Counterpart of riscv_iommu_iotlb_flush_all(): the whole PSCID, and every bonded ATS function's whole ATC. */
    @Override
    public void flushIotlbAll(IommuDomain d) {
        List<RiscvCommand> cmds = new ArrayList<>();
        cmds.add(RiscvCommand.iotinvalVma(false, 0, true, pscid, false, 0));
        for (Bond b : bonds) {
            if (b.info().pci().atsEnabled()) {
                RiscvCommand inval = RiscvCommand.atsInval(b.info().devid(), b.pasid() > 0, Math.max(b.pasid(), 0),
                        false, 0, 4096);
                cmds.add(new RiscvCommand(inval.qw0(), RiscvIommuDriver.ATS_INVAL_ALL));
            }
        }
        domains.cmdq().sendAndSync(cmds.toArray(RiscvCommand[]::new));
    }
}
