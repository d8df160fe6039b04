package dev.iommulab.iopf;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.KernelVersion;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.IopfGroup;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.core.kernel.Workqueue;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.Layer;
import dev.iommulab.hw.sim.TimingModel;
import java.util.List;
import java.util.Objects;

/**
 * I/O page fault handling, the counterpart of {@code drivers/iommu/io-pgfault.c}: drivers report each
 * page request with {@link #reportDeviceFault}; non-last requests wait on the device's partial list;
 * the last request of a group (LPIG) closes it and the group goes to the fault handler of the domain
 * attached at its PASID (or RID). Every report that needs an answer gets exactly one. The kernel version
 * followed and the policies are {@link IopfPolicies}.
 *
 * <p>Just over 300 lines: the io-pgfault entry points of include/linux/iommu.h in one place ({@link IoPgfault});
 * group assembly, queue lifecycle and responses are in {@link GroupAssembly}, {@link QueueLifecycle} and
 * {@link Responses}.
 */
public final class Iopf implements IoPgfault {

    /** Failure-injection site of group allocation. */
    public static final String SITE_GROUP = "iopf-group";
    /** Failure-injection site of partial-fault allocation. */
    public static final String SITE_PARTIAL = "iopf-partial";

    private final IommuCore core;
    private final EventLoop loop;
    private final TimingModel timing;
    private final FaultEvents events;
    private final KernelLog log;
    private final IopfPolicies policies;
    private final FaultParams params = new FaultParams();
    private final Responses responses;
    private final GroupAssembly assembly;
    private final QueueLifecycle queues;

    /** io-pgfault of the latest kernel with the kernel's policies. */
    public Iopf(IommuCore core, EventLoop loop, TimingModel timing, FaultEvents events, FailureInjector failures,
                KernelLog log) {
        this(core, loop, timing, events, failures, log, IopfPolicies.kernel(failures));
    }

    public Iopf(IommuCore core, EventLoop loop, TimingModel timing, FaultEvents events, FailureInjector failures,
                KernelLog log, IopfPolicies policies) {
        this.core = core;
        this.loop = loop;
        this.timing = timing;
        this.events = events;
        this.log = log;
        this.policies = policies;
        this.responses = new Responses(events, loop);
        this.assembly = new GroupAssembly(failures, params, loop, policies);
        this.queues = new QueueLifecycle(params, assembly, responses, log, events);
    }

    @Override
    public KernelVersion kernel() {
        return policies.kernel();
    }

    public IopfPolicies policies() {
        return policies;
    }

    /** Counterpart of iopf_queue_alloc(): a queue with its own unbound workqueue {@code iopf_queue/<name>}. */
    @Override
    public IopfQueue queueAlloc(String name) {
        return new IopfQueue(name, new Workqueue("iopf_queue/" + name, loop, timing.threadWakeNs()));
    }

    /**
     * Counterpart of iopf_queue_add_device().
     *
     * @throws KernelException ENODEV if the driver has no page_response, EBUSY if the device already has a
     *                         fault param
     */
    @Override
    public void queueAddDevice(IopfQueue queue, Device dev) {
        queues.addDevice(queue, dev);
    }

    /**
     * Counterpart of iopf_queue_remove_device(): partials are freed without response, every pending group
     * is answered INVALID and freed, and the param is unpublished. WARNs and does nothing for a device not
     * on {@code queue}.
     */
    @Override
    public void queueRemoveDevice(IopfQueue queue, Device dev) {
        queues.removeDevice(queue, dev);
    }

    /** The iopf queue {@code dev} is on ({@code dev->iommu->fault_param->queue}), or null when it is on none. */
    public IopfQueue queueOf(Device dev) {
        return queues.queueOf(dev);
    }

    /**
     * Counterpart of iopf_queue_discard_partial(): frees the partial list of every device on the queue;
     * pending groups stay, nothing is sent.
     *
     * @throws KernelException EINVAL for a null queue
     */
    @Override
    public void queueDiscardPartial(IopfQueue queue) {
        queues.discardPartial(queue);
    }

    /**
     * Counterpart of iopf_queue_flush_dev(): {@code whenFlushed} runs once every work item queued so far on
     * the workqueue of the device's iopf queue (all its devices) has finished — where the kernel's caller
     * would block. It does not touch partials, hardware queues or groups held by iommufd.
     *
     * @throws KernelException ENODEV (after a WARN) for a device without fault param
     */
    @Override
    public void queueFlushDev(Device dev, Runnable whenFlushed) {
        queues.flushDev(dev, whenFlushed);
    }

    /**
     * Counterpart of iopf_queue_free(): removes every device still on the queue (as
     * {@link #queueRemoveDevice}) and destroys the workqueue, whose queued items still run. Null is a no-op.
     */
    @Override
    public void queueFree(IopfQueue queue) {
        queues.free(queue);
    }

    /**
     * Counterpart of iommu_report_device_fault(): routes and queues one page request.
     *
     * @return 0, or a negative errno when the fault was answered on the bad-setup path (-EINVAL) or
     *         lost (-ENOMEM for a non-last request); before 6.8 also when the driver must answer
     */
    @Override
    public int reportDeviceFault(Device dev, IommuFault evt) {
        events.faultReceived(dev, evt);
        if (loop.trace().enabled()) { // permString() builds a string
            trace("iommu_report_device_fault", "%s PASID %d grpid %d %s %#x%s", dev.name(), evt.pasid(),
                    evt.grpid(), evt.permString(), evt.addr(), evt.lastPage() ? " LAST_PAGE" : "");
        }
        int ret = policies.kernel().parksBeforeRouting() ? HistoricReport.report(this, dev, evt) : report(dev, evt);
        events.faultReported(dev, evt, ret);
        return ret;
    }

    private int report(Device dev, IommuFault evt) {
        AttachHandle handle = findFaultHandler(dev, evt);
        if (handle == null) {
            return errBadIopf(dev, evt, "no fault handler");
        }
        FaultParam param = params.get(dev);
        if (param == null) {
            log.warn("WARNING: %s: iommu_report_device_fault: no iopf fault param", dev.pciName());
            return errBadIopf(dev, evt, "device not on an iopf queue");
        }
        if (!evt.lastPage()) {
            return assembly.reportPartialFault(param, evt);
        }
        return dispatch(assembly.groupAlloc(param, evt), handle);
    }

    /** Steps 6-8 of the pipeline for an allocated group (also used by the historic modes). */
    int dispatch(Group group, AttachHandle handle) {
        if (group.abortGroup()) {
            return errAbort(group, "group allocation failed");
        }
        if (group.backPressure()) {
            trace("iopf_group_alloc", "no group by policy: answer INVALID (back-pressure)");
            responses.group(group, PageResponseCode.INVALID, ResponseOrigin.BACK_PRESSURE);
            assembly.freeGroup(group);
            return 0;
        }
        group.attachHandle = handle;
        trace("iopf_group_alloc", "group grpid %d with %d fault(s) -> %s domain handler", group.lastFault.grpid(),
                group.faults.size(), handle.domain().type());
        events.groupDispatched(group.device(), group.faults);
        int handled = handle.domain().iopfHandler().handle(group);
        if (handled != 0) {
            return errAbort(group, "handler refused (" + Errno.fromReturn(handled) + ")");
        }
        return 0;
    }

    /**
     * Counterpart of find_fault_handler() (formerly get_domain_for_iopf()): the attach handle a fault is routed to,
     * or null when nothing can take it.
     */
    AttachHandle findFaultHandler(Device dev, IommuFault evt) {
        AttachHandle handle = lookup(dev, evt.pasidValid() ? evt.pasid() : IommuCore.IOMMU_NO_PASID, null);
        if (handle == null && evt.pasidValid() && dev.ops().userPasidTable()) {
            handle = lookup(dev, IommuCore.IOMMU_NO_PASID, DomainType.NESTED);
        }
        return handle == null || handle.domain().iopfHandler() == null ? null : handle;
    }

    private AttachHandle lookup(Device dev, int pasid, DomainType type) {
        try {
            return core.attachHandleGet(dev.group(), pasid, type);
        } catch (KernelException e) {
            return null;
        }
    }

    private int errBadIopf(Device dev, IommuFault evt, String why) {
        trace("iommu_report_device_fault", "%s: answer INVALID (bad iopf setup)", why);
        responses.event(dev, evt, PageResponseCode.INVALID, ResponseOrigin.BAD_SETUP);
        return Errno.EINVAL.negative();
    }

    int errAbort(Group group, String why) {
        log.warnRatelimited("iommu_report_device_fault", "pci %s: iopf with pasid %d aborted",
                group.param.dev.pciName(), group.lastFault.pasid());
        trace("iommu_report_device_fault", "%s: err_abort", why);
        responses.group(group, policies.abort().code(), ResponseOrigin.ABORT);
        assembly.freeGroup(group);
        return 0;
    }

    FaultParams params() {
        return params;
    }

    GroupAssembly assembly() {
        return assembly;
    }

    KernelLog log() {
        return log;
    }

    /**
     * Counterpart of iopf_group_response() (formerly iommu_page_response()): answers the group once; later calls do
     * nothing. The origin is the consumer owning the domain (SVA or iommufd).
     */
    @Override
    public void groupResponse(IopfGroup group, PageResponseCode code) {
        Group g = own(group);
        ResponseOrigin origin = g.attachHandle != null && g.attachHandle.domain().type() == DomainType.SVA
                ? ResponseOrigin.SVA : ResponseOrigin.IOMMUFD;
        responses.group(g, code, origin);
    }

    @Override
    public void groupResponse(IopfGroup group, PageResponseCode code, ResponseOrigin origin) {
        responses.group(own(group), code, Objects.requireNonNull(origin, "origin"));
    }

    /**
     * Whether {@code group} is still owed its response: false once anyone answered it (its handler, or
     * iopf_queue_remove_device() forcing INVALID). A consumer holding groups uses it to forget those answered
     * behind its back (the intended semantics of linux-fault-stack.md §3.5).
     */
    @Override
    public boolean groupOwed(IopfGroup group) {
        Group g = own(group);
        return g.param.faults.contains(g);
    }

    /** Counterpart of iopf_free_group(): drops the group's reference on the fault param. Idempotent here. */
    @Override
    public void freeGroup(IopfGroup group) {
        assembly.freeGroup(own(group));
    }

    private Group own(IopfGroup group) {
        if (!(group instanceof Group g)) {
            throw new KernelException(Errno.EINVAL, "group", "not a group of this io-pgfault instance");
        }
        return g;
    }

    /** Non-last requests parked for {@code dev}, in arrival order (for reports and tests). */
    public List<IommuFault> partials(Device dev) {
        FaultParam param = params.published(dev);
        return param == null ? List.of() : List.copyOf(param.partial);
    }

    /** Groups of {@code dev} still owed a response. */
    public int pendingGroups(Device dev) {
        FaultParam param = params.published(dev);
        return param == null ? 0 : param.faults.size();
    }

    /** fault_param->users of {@code dev}, or 0 when unpublished. */
    public int faultParamUsers(Device dev) {
        FaultParam param = params.published(dev);
        return param == null ? 0 : param.users;
    }

    void trace(String symbol, String format, Object... args) {
        loop.trace().step(loop.now(), Layer.IOPF, symbol, format, args);
    }
}
