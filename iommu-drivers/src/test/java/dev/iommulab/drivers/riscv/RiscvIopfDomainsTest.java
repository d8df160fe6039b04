package dev.iommulab.drivers.riscv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.Device;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.pci.DeviceProfile;
import org.junit.jupiter.api.Test;

/**
 * IOPF for fault-capable domains that are not SVA, on a function the driver contract does not probe: one with PASID
 * but neither ATS nor PRI. <b>Not in mainline</b> (the RISC-V driver there has no IOPF, reference/linux-fault-stack.md
 * §6.4): the lab's option derives from the VT-d driver's intel_iommu_enable_iopf(). What every driver does for
 * fault-capable domains — iopf_for_domain_set() / _replace() / _remove(), the reference count, the round trips without
 * and with PASID — is in {@link dev.iommulab.fixtures.drivers.IommuOpsContract} ({@link RiscvIommuOpsContractTest}).
 */
class RiscvIopfDomainsTest {

    private final RiscvIommuFixture f = new RiscvIommuFixture();

    /**
     * A function whose device context has no EN_PRI (here: PASID but no ATS or PRI) cannot take a fault-capable
     * domain: ENODEV, as intel_iommu_enable_iopf() without PRI, and nothing changed — still blocked, no iopf queue.
     */
    @Test
    void attachDevice_faultCapableOnFunctionWithoutPri_failsEnodevLeavingRidBlocked() {
        f.probePlain("plain0", 0x0500, DeviceProfile.ACCELERATOR, 8);
        Device plain = f.core.devices().get(1);
        IommuDomain d = f.core.pagingDomainAlloc(plain);
        d.setIopfHandler(group -> 0);

        KernelException e = catchThrowableOfType(KernelException.class,
                () -> f.core.attachGroupHandle(d, plain.group(), new AttachHandle(d)));

        assertThat(e.errno()).isEqualTo(Errno.ENODEV);
        assertThat(f.core.getDomainForDev(plain)).isSameAs(f.driver.blockedDomain());
        assertThat(f.iopf.queueOf(plain)).isNull();
    }
}
