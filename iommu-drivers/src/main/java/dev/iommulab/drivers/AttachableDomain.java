package dev.iommulab.drivers;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuDomainOps;
import java.util.function.Function;

/**
 * A domain kind whose attach ops are all the same shape, whatever it translates with: attach_dev at the RID and
 * set_dev_pasid at a PASID, with or without an old domain, are one routine of the driver ({@link Attacher}) that
 * writes the entry the kind describes. The driver's kinds say only what their entry holds.
 *
 * @param <D> the driver's attachable kind (the class extending this one)
 */
public abstract class AttachableDomain<D extends AttachableDomain<D>> extends DriverDomain {

    /** The driver's attach routine for its attachable kinds. */
    public interface Attacher<D> {

        /** attach_dev of {@code domain}: it takes the RID of {@code dev}, in place of what was there. */
        void attachDev(D domain, Device dev);

        /** set_dev_pasid of {@code domain} at {@code pasid} of {@code dev}, in place of {@code old} (null: blocked). */
        void setDevPasid(D domain, Device dev, int pasid, IommuDomain old);
    }

    private final Attacher<D> attacher;

    protected AttachableDomain(Attacher<D> attacher, Function<IommuDomainOps, IommuDomain> alloc) {
        super(alloc);
        this.attacher = attacher;
    }

    @SuppressWarnings("unchecked")
    private D self() {
        return (D) this;
    }

    @Override
    public void attachDev(IommuDomain domain, Device dev) {
        attacher.attachDev(self(), dev);
    }

    @Override
    public void setDevPasid(IommuDomain domain, Device dev, int pasid) {
        attacher.setDevPasid(self(), dev, pasid, null);
    }

    @Override
    public void setDevPasid(IommuDomain domain, Device dev, int pasid, IommuDomain old) {
        attacher.setDevPasid(self(), dev, pasid, old);
    }
}
