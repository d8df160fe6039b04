package dev.iommulab.core.fault;

import com.google.inject.Inject;
import com.google.inject.Singleton;
import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.Layer;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The legacy fault-handler API of drivers/iommu/iommu.c: {@code iommu_set_fault_handler()} and
 * {@code report_iommu_fault()}, with the flags {@code IOMMU_FAULT_READ}/{@code IOMMU_FAULT_WRITE} of
 * include/linux/iommu.h. A domain user (remoteproc, msm/adreno, ...) installs one handler per domain; an IOMMU
 * driver that supports the API calls {@link #reportIommuFault} from its fault interrupt and, when it gets
 * -ENOSYS (no handler, or a handler asking for the default), prints the fault itself.
 *
 * <p>Which drivers call it (mainline): arm-smmu (v2, {@code arm_smmu_context_fault()}), qcom_iommu, ipmmu-vmsa,
 * mtk_iommu, rockchip-iommu, omap-iommu, sun50i and AMD ({@code amd_iommu_report_page_fault()}); <b>not</b> Intel
 * VT-d ({@code dmar_fault()} only logs), ARM SMMUv3 or RISC-V. So in this lab no driver calls it — a handler
 * installed on a VT-d or RISC-V domain is never invoked, as on real hardware — and tests call
 * {@link #reportIommuFault} the way those drivers do.
 *
 * <p>The handler is domain state ({@code domain->handler}, {@code domain->handler_token}, {@code
 * domain->cookie_type}); this class keeps it beside the domain, by identity, for every domain of the kernel.
 * The cookie rule of mainline: a domain whose cookie is taken — an SVA domain ({@code IOMMU_COOKIE_SVA}), a
 * DMA-API domain ({@code IOMMU_COOKIE_DMA_IOVA}, derived here from {@link DomainType#DMA}/{@link DomainType#DMA_FQ})
 * or one that already has a handler — gets a WARN and no handler.
 */
@Singleton
public final class LegacyFaultReporting {

    /** IOMMU_FAULT_READ. */
    public static final int IOMMU_FAULT_READ = 0x0;
    /** IOMMU_FAULT_WRITE. */
    public static final int IOMMU_FAULT_WRITE = 0x1;

    /** {@code enum iommu_domain_cookie_type} values this class can tell apart. */
    public enum CookieType {
        NONE, DMA_IOVA, SVA, FAULT_HANDLER
    }

    private record Installed(IommuFaultHandler handler, Object token) {
    }

    private final KernelLog log;
    private final EventLoop loop;
    private final Map<IommuDomain, Installed> handlers = new IdentityHashMap<>();

    @Inject
    public LegacyFaultReporting(KernelLog log, EventLoop loop) {
        this.log = Objects.requireNonNull(log, "log");
        this.loop = Objects.requireNonNull(loop, "loop");
    }

    /** {@code domain->cookie_type} as the kernel would have it. */
    public CookieType cookieType(IommuDomain domain) {
        if (handlers.containsKey(domain)) {
            return CookieType.FAULT_HANDLER;
        }
        return switch (domain.type()) {
            case SVA -> CookieType.SVA;
            case DMA, DMA_FQ -> CookieType.DMA_IOVA;
            default -> CookieType.NONE;
        };
    }

    /**
     * Counterpart of {@code iommu_set_fault_handler()}: installs {@code handler} with {@code token} on
     * {@code domain}. Called by the domain's user in process context. A domain whose cookie is not NONE (see
     * the class comment) gets a WARN in the log and keeps what it had; nothing is thrown, as the kernel returns void.
     */
    public void setFaultHandler(IommuDomain domain, IommuFaultHandler handler, Object token) {
        Objects.requireNonNull(domain, "domain");
        CookieType cookie = cookieType(domain);
        if (cookie != CookieType.NONE) {
            log.warn("WARNING: iommu_set_fault_handler: %s domain cookie is %s, not NONE", domain.type(), cookie);
            return;
        }
        handlers.put(domain, new Installed(handler, token));
    }

    /**
     * Counterpart of {@code report_iommu_fault()}: calls the domain's handler when one is installed
     * ({@code cookie_type == IOMMU_COOKIE_FAULT_HANDLER && domain->handler}) and returns what it returns;
     * -ENOSYS otherwise. Emits the {@code io_page_fault} trace event either way. Called by an IOMMU driver's
     * fault interrupt.
     */
    public int reportIommuFault(IommuDomain domain, Device dev, long iova, int flags) {
        Installed installed = handlers.get(Objects.requireNonNull(domain, "domain"));
        int ret = Errno.ENOSYS.negative();
        if (installed != null && installed.handler() != null) {
            ret = installed.handler().handle(domain, dev, iova, flags, installed.token());
        }
        loop.trace().step(loop.now(), Layer.CORE, "io_page_fault", "IOMMU:%s %s iova=0x%016x flags=0x%04x",
                domain.owner().name(), dev == null ? "(null)" : dev.pciName(), iova, flags);
        return ret;
    }
}
