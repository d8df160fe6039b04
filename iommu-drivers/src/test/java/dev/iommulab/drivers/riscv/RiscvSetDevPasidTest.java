package dev.iommulab.drivers.riscv;

import static dev.iommulab.drivers.riscv.RiscvIommuFixture.PASID;
import static dev.iommulab.drivers.riscv.RiscvIommuFixture.RID;
import static dev.iommulab.drivers.riscv.RiscvIommuFixture.pscid;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuDomainOps;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.pci.EndpointOptions;
import dev.iommulab.hw.pgtable.RiscvPagingMode;
import dev.iommulab.hw.riscv.RiscvCommand;
import dev.iommulab.hw.riscv.RiscvConfig;
import dev.iommulab.hw.riscv.RiscvDeviceContext;
import dev.iommulab.hw.riscv.RiscvProcessContext;
import dev.iommulab.hw.riscv.RiscvRegs;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/**
 * Attaching an SVA domain at a PASID. Not in mainline (reference/linux-fault-stack.md §6.4); the lab's
 * set_dev_pasid is modelled on intel_svm_set_dev_pasid() and intel_iommu_enable_iopf() (intel/svm.c,
 * intel/iommu.c) and writes the RISC-V process context of riscv-iommu "Process-context fields"
 * (reference/iommu-hardware.md §2.4.1).
 *
 * <p>What every driver does here is asserted once for all drivers by
 * {@link dev.iommulab.fixtures.drivers.IommuOpsContract} ({@link RiscvIommuOpsContractTest}); this class keeps the
 * RISC-V specifics: exact descriptors and commands, vendor fault codes, log lines, timing.
 */
class RiscvSetDevPasidTest {

    private final RiscvIommuFixture f = new RiscvIommuFixture();

    /**
     * The process context of the PASID, found through the DC's PD20 table (3 levels): ta = V with the domain's
     * PSCID, ENS = SUM = 0 (user accesses only); fsc = Sv48 with the process's page table ({@code mm->pgd}).
     * The driver then invalidated the PDT entry (IODIR.INVAL_PDT with the device_id and PASID) and fenced.
     */
    @Test
    void setDevPasid_svaDomain_writesValidPcWithPscidAndSv48Root() {
        f.attach();

        RiscvProcessContext pc = f.pc(PASID);
        int pscid = pscid(f.domain);
        assertThat(pc.has(RiscvProcessContext.TA_V)).isTrue();
        assertThat(pc.has(RiscvProcessContext.TA_ENS)).as("ENS").isFalse();
        assertThat(pc.has(RiscvProcessContext.TA_SUM)).as("SUM").isFalse();
        assertThat(pc.pscid()).isEqualTo(pscid).isPositive();
        assertThat(pc.ta()).isEqualTo(RiscvProcessContext.TA_V | (long) pscid << 12);
        assertThat(pc.fscMode()).isEqualTo(RiscvPagingMode.SV48.encoding());
        assertThat(pc.fscRoot()).isEqualTo(f.mm.pgd());
        assertThat(pc.fsc()).isEqualTo(RiscvDeviceContext.encodeAtp(9, f.mm.pgd()));
        int at = f.commands().indexOf(RiscvCommand.iodirInvalPdt(RID, PASID));
        assertThat(at).isPositive();
        assertThat(f.commands().get(at + 1)).isEqualTo(RiscvCommand.iofenceC(false, false, true, true, 0, 0));
        assertThat(f.hw.readReg(RiscvRegs.CQH)).isEqualTo(f.hw.readReg(RiscvRegs.CQT));
    }

    /**
     * A failed call changes nothing it does not have to (DESIGN.md §6): when the PDT level for the PASID
     * cannot be allocated (ENOMEM from the page allocator), IOPF is disabled again as intel_svm_set_dev_pasid()
     * does on its unwind path: PRI off, the device off the iopf queue, no process context written.
     */
    @Test
    void setDevPasid_pdtLevelAllocationFails_enomemAndIopfUnwound() {
        f.failures.failNext(FrameAllocator.SITE, 1);

        assertErrno(f::attach, Errno.ENOMEM);
        assertThat(f.endpoint.priState().enabled()).isFalse();
        assertThat(f.driver.iopfQueue().deviceNames()).isEmpty();
        assertThat(f.iopf.faultParamUsers(f.dev)).isZero();
        assertThat(f.memory.readLong(f.dc(RID).fscRoot())).as("PDT root entry").isZero();
    }

    /** A PASID the device's PDT cannot index (PD8 table, PASID 0x1234) is refused with EINVAL before IOPF. */
    @Test
    void setDevPasid_pasidBeyondPdt_einvalAndNothingEnabled() {
        RiscvConfig pd8 = RiscvConfig.defaults("riscv-iommu0").withCapabilities(
                RiscvConfig.DEFAULT_CAPABILITIES & ~(RiscvRegs.CAP_PD17 | RiscvRegs.CAP_PD20));
        RiscvIommuFixture g = new RiscvIommuFixture(pd8, RiscvIommuDriver.QueueSizes.DEFAULTS,
                EndpointOptions.DEFAULTS);

        assertErrno(g::attach, Errno.EINVAL);
        assertThat(g.endpoint.priState().enabled()).isFalse();
        assertThat(g.driver.iopfQueue().deviceNames()).isEmpty();
    }

    /**
     * Besides SVA, blocking, identity and paging domains have a set_dev_pasid here; the driver has no NESTED domains
     * (domain_alloc_nested: EOPNOTSUPP), and a NESTED domain whose ops have no set_dev_pasid is refused with ENODEV
     * (as __iommu_attach_device() without the op). A paging domain of this driver always carries its page table
     * (its ops are built with it), so the former EINVAL for a table-less one has no domain left to refuse. No
     * command is sent and nothing is published.
     */
    @Test
    void setDevPasid_nestedDomain_refused() {
        int commandsAtProbe = f.commands().size();
        IommuDomain parent = f.driver.domainAllocPaging(f.dev, 0);
        IommuDomain nested = IommuDomain.nested(f.driver, new IommuDomainOps() { }, parent);

        assertErrno(() -> f.core.domainAllocNested(f.dev, parent, 0x10_0000, 48), Errno.EOPNOTSUPP);
        assertErrno(() -> f.core.attachDevicePasid(nested, f.dev, PASID, null), Errno.ENODEV);
        assertThat(f.dev.group().pasidArray()).doesNotContainKey(PASID);
        assertThat(f.commands()).hasSize(commandsAtProbe);
    }

    private static void assertErrno(ThrowingCallable call, Errno errno) {
        assertThatThrownBy(call).isInstanceOfSatisfying(KernelException.class,
                e -> assertThat(e.errno()).isEqualTo(errno));
    }
}
