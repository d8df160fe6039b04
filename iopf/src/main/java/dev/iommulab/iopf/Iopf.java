package dev.iommulab.iopf;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.IopfGroup;
import dev.iommulab.core.fault.PageResponse;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * I/O page fault handling, the counterpart of {@code drivers/iommu/io-pgfault.c}: drivers report each
 * page request with {@link #reportDeviceFault}; non-last requests wait on the device's partial list;
 * the last request of a group (LPIG) closes it and the group goes to the fault handler of the domain
 * attached at its PASID (or RID). Every report that needs an answer gets exactly one.
 */
public final class Iopf {

    /** Failure-injection site of group allocation. */
    public static final String SITE_GROUP = "iopf-group";
    /** Failure-injection site of partial-fault allocation. */
    public static final String SITE_PARTIAL = "iopf-partial";

    private final IommuCore core;
    private final EventLoop loop;
    private final TimingModel timing;
    private final FaultEvents events;
    private final FailureInjector failures;
    private final KernelLog log;
    /** dev->iommu->fault_param, published per device. */
    private final Map<Device, FaultParam> published = new HashMap<>();

    public Iopf(IommuCore core, EventLoop loop, TimingModel timing, FaultEvents events, FailureInjector failures,
                KernelLog log) {
        this.core = core;
        this.loop = loop;
        this.timing = timing;
        this.events = events;
        this.failures = failures;
        this.log = log;
    }

    /** Counterpart of iopf_queue_alloc(): a queue with its own unbound workqueue {@code iopf_queue/<name>}. */
    public IopfQueue queueAlloc(String name) {
        return new IopfQueue(name, new Workqueue("iopf_queue/" + name, loop, timing.threadWakeNs()));
    }

    /**
     * Counterpart of iopf_queue_add_device().
     *
     * @throws KernelException ENODEV if the driver has no page_response, EBUSY if the device already has a
     *                         fault param
     */
    public void queueAddDevice(IopfQueue queue, Device dev) {
        if (!dev.ops().hasPageResponse()) {
            throw new KernelException(Errno.ENODEV, "dev", dev.ops().name() + " has no page_response");
        }
        if (published.containsKey(dev)) {
            throw new KernelException(Errno.EBUSY, "dev", dev + " is already on an iopf queue");
        }
        FaultParam param = new FaultParam(dev, queue);
        queue.devices.add(param);
        published.put(dev, param);
    }

    /**
     * Counterpart of iopf_queue_remove_device(): partials are freed without response, every pending group
     * is answered INVALID and freed, and the param is unpublished.
     */
    public void queueRemoveDevice(IopfQueue queue, Device dev) {
        FaultParam param = published.get(dev);
        if (param == null || param.queue != queue) {
            log.warn("WARNING: iopf_queue_remove_device: %s is not on queue %s", dev.pciName(), queue.name());
            return;
        }
        param.partial.clear();
        for (Group group : List.copyOf(param.faults)) {
            respond(group, PageResponseCode.INVALID, ResponseOrigin.REMOVE_DEVICE);
            freeGroup(group);
        }
        queue.devices.remove(param);
        published.remove(dev);
        putParam(param);
    }

    /**
     * Counterpart of iopf_queue_discard_partial(): frees the partial list of every device on the queue;
     * pending groups stay, nothing is sent.
     *
     * @throws KernelException EINVAL for a null queue
     */
    public void queueDiscardPartial(IopfQueue queue) {
        if (queue == null) {
            throw new KernelException(Errno.EINVAL, "queue", "is NULL");
        }
        for (FaultParam param : queue.devices) {
            param.partial.clear();
        }
    }

    /**
     * Counterpart of iommu_report_device_fault(): routes and queues one page request.
     *
     * @return 0, or a negative errno when the fault was answered on the bad-setup path (-EINVAL) or
     *         lost (-ENOMEM for a non-last request)
     */
    public int reportDeviceFault(Device dev, IommuFault evt) {
        int ret = report(dev, evt);
        events.faultReported(dev, evt, ret);
        return ret;
    }

    private int report(Device dev, IommuFault evt) {
        trace("iommu_report_device_fault", "%s PASID %d grpid %d %s %#x%s", dev.name(), evt.pasid(), evt.grpid(),
                evt.permString(), evt.addr(), evt.lastPage() ? " LAST_PAGE" : "");
        AttachHandle handle = findFaultHandler(dev, evt);
        if (handle == null) {
            return errBadIopf(dev, evt, "no fault handler");
        }
        FaultParam param = getDevFaultParam(dev);
        if (param == null) {
            log.warn("WARNING: %s: iommu_report_device_fault: no iopf fault param", dev.pciName());
            return errBadIopf(dev, evt, "device not on an iopf queue");
        }
        if (!evt.lastPage()) {
            return reportPartialFault(param, evt);
        }
        Group group = groupAlloc(param, evt);
        if (group.abortGroup) {
            return errAbort(group, "group allocation failed");
        }
        group.attachHandle = handle;
        trace("iopf_group_alloc", "group grpid %d with %d fault(s) -> %s domain handler", evt.grpid(),
                group.faults.size(), handle.domain().type());
        events.groupDispatched(dev, group.faults);
        int handled = handle.domain().iopfHandler().handle(group);
        if (handled != 0) {
            return errAbort(group, "handler refused (" + Errno.fromReturn(handled) + ")");
        }
        return 0;
    }

    /** Counterpart of find_fault_handler(). */
    private AttachHandle findFaultHandler(Device dev, IommuFault evt) {
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

    private FaultParam getDevFaultParam(Device dev) {
        FaultParam param = published.get(dev);
        if (param == null || param.users == 0) {
            return null;
        }
        param.users++;
        return param;
    }

    private void putParam(FaultParam param) {
        param.users--;
    }

    private int errBadIopf(Device dev, IommuFault evt, String why) {
        trace("iommu_report_device_fault", "%s: answer INVALID (bad iopf setup)", why);
        if (evt.type() == IommuFault.IOMMU_FAULT_PAGE_REQ) {
            PageResponse resp = new PageResponse(evt.pasid(), evt.grpid(), PageResponseCode.INVALID);
            events.pageResponse(dev, evt, resp, ResponseOrigin.BAD_SETUP);
            dev.ops().pageResponse(dev, evt, resp);
        }
        return Errno.EINVAL.negative();
    }

    /** Counterpart of report_partial_fault(). */
    private int reportPartialFault(FaultParam param, IommuFault evt) {
        if (failures.shouldFail(SITE_PARTIAL)) {
            putParam(param);
            return Errno.ENOMEM.negative();
        }
        param.partial.add(evt);
        putParam(param);
        trace("report_partial_fault", "grpid %d parked (%d partial)", evt.grpid(), param.partial.size());
        return 0;
    }

    /** Counterpart of iopf_group_alloc(): collects the partials of the grpid, in arrival order. */
    private Group groupAlloc(FaultParam param, IommuFault evt) {
        boolean abort = failures.shouldFail(SITE_GROUP);
        List<IommuFault> faults = new ArrayList<>();
        param.partial.removeIf(p -> {
            if (p.grpid() == evt.grpid()) {
                faults.add(p);
                return true;
            }
            return false;
        });
        faults.add(evt);
        Group group = new Group(param, evt, faults, abort);
        param.faults.add(group);
        return group;
    }

    private int errAbort(Group group, String why) {
        log.warn("pci %s: iopf with pasid %d aborted", group.param.dev.pciName(), group.lastFault.pasid());
        trace("iommu_report_device_fault", "%s: err_abort", why);
        respond(group, PageResponseCode.FAILURE, ResponseOrigin.ABORT);
        freeGroup(group);
        return 0;
    }

    /**
     * Counterpart of iopf_group_response(): answers the group once; later calls do nothing. The origin is
     * the consumer owning the domain (SVA or iommufd).
     */
    public void groupResponse(IopfGroup group, PageResponseCode code) {
        Group g = own(group);
        ResponseOrigin origin = g.attachHandle != null && g.attachHandle.domain().type() == DomainType.SVA
                ? ResponseOrigin.SVA : ResponseOrigin.IOMMUFD;
        respond(g, code, origin);
    }

    private void respond(Group group, PageResponseCode code, ResponseOrigin origin) {
        FaultParam param = group.param;
        if (!param.faults.remove(group)) {
            return;
        }
        IommuFault last = group.lastFault;
        PageResponse resp = new PageResponse(last.pasid(), last.grpid(), code);
        trace("iopf_group_response", "%s PASID %d grpid %d -> %s (%s)", param.dev.name(), last.pasid(), last.grpid(),
                code, origin.label());
        events.pageResponse(param.dev, last, resp, origin);
        param.dev.ops().pageResponse(param.dev, last, resp);
    }

    /** Counterpart of iopf_free_group(): drops the group's reference on the fault param. Idempotent here. */
    public void freeGroup(IopfGroup group) {
        Group g = own(group);
        if (g.freed) {
            return;
        }
        g.freed = true;
        putParam(g.param);
    }

    private Group own(IopfGroup group) {
        if (!(group instanceof Group g)) {
            throw new KernelException(Errno.EINVAL, "group", "not a group of this io-pgfault instance");
        }
        return g;
    }

    /** Non-last requests parked for {@code dev}, in arrival order (for reports and tests). */
    public List<IommuFault> partials(Device dev) {
        FaultParam param = published.get(dev);
        return param == null ? List.of() : List.copyOf(param.partial);
    }

    /** Groups of {@code dev} still owed a response. */
    public int pendingGroups(Device dev) {
        FaultParam param = published.get(dev);
        return param == null ? 0 : param.faults.size();
    }

    /** fault_param->users of {@code dev}, or 0 when unpublished. */
    public int faultParamUsers(Device dev) {
        FaultParam param = published.get(dev);
        return param == null ? 0 : param.users;
    }

    private void trace(String symbol, String format, Object... args) {
        loop.trace().step(loop.now(), Layer.IOPF, symbol,format, args);
    }
}
