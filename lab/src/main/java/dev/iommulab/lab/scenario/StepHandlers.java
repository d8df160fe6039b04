package dev.iommulab.lab.scenario;

/**
 * What performing each step kind means, grouped by area. {@link StepKinds} routes every step to one method here; the
 * runner ({@code dev.iommulab.lab.run}) implements each area in a small class of its own. A step whose kernel call
 * fails throws {@code KernelException}, having changed nothing.
 */
public interface StepHandlers {

    Sva sva();

    Mm mm();

    Iommu iommu();

    Device device();

    Userspace userspace();

    /** Step {@code run}: advance simulated time. */
    void run(Run step);

    /** The SVA steps: the device driver binds and unbinds a process, and stops a PASID before it unbinds. */
    interface Sva {
        void bind(SvaBind step);

        void unbind(SvaUnbind step);

        void pasidStop(PasidStop step);
    }

    /** The process's own memory calls: mmap(), munmap(), mprotect() and exit. */
    interface Mm {
        void mmap(Mmap step);

        void munmap(Munmap step);

        void mprotect(Mprotect step);

        void exitProcess(ExitProcess step);
    }

    /** The kernel's IOMMU API at a device's RID, io-pgfault's device removal and allocation-failure injection. */
    interface Iommu {
        void attach(Attach step);

        void map(MapStep step);

        void unmap(UnmapStep step);

        void removeDevice(RemoveDevice step);

        void faultHandler(FaultHandlerStep step);

        void failAllocations(FailAllocations step);
    }

    /** What a device does on the wire (DMA, raw page requests, Stop Markers) and its Function Level Reset. */
    interface Device {
        void dma(Dma step);

        void pageRequest(PageRequest step);

        void stopMarker(StopMarker step);

        void flr(Flr step);
    }

    /** A process as user-space driver through iommufd: VFIO device, IOAS and fault-fd calls. */
    interface Userspace {
        void vfioBind(VfioBind step);

        void vfioUnbind(VfioUnbind step);

        void vfioAttach(VfioAttach step);

        void vfioReplace(VfioReplace step);

        void vfioDetach(VfioDetach step);

        void vfioPasidStop(VfioPasidStop step);

        void ioasMap(IoasMap step);

        void ioasUnmap(IoasUnmap step);

        void faultRead(FaultRead step);

        void faultWrite(FaultWrite step);

        void faultClose(FaultClose step);

        void iommufdClose(IommufdClose step);
    }
}
