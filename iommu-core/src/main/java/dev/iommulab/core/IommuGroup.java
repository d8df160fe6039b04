package dev.iommulab.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code struct iommu_group}: devices that share translation; the domain translating their requests without
 * PASID ({@code group->domain}), the default and blocking domains the core returns to, DMA ownership, and
 * {@code pasid_array}: what is attached at each PASID, a domain with or without an attach handle
 * ({@link IommuCore#IOMMU_NO_PASID} holds a handle only when one was given with the RID domain,
 * iommu_attach_group_handle()).
 */
public final class IommuGroup {

    /** One pasid_array entry: the domain, and the handle it was attached with (null: a bare domain entry). */
    record Slot(IommuDomain domain, AttachHandle handle) {
    }

    private final int id;
    private final List<Device> devices = new ArrayList<>();
    private final Map<Integer, Slot> pasidArray = new TreeMap<>();
    private IommuDomain domain;
    private IommuDomain defaultDomain;
    private IommuDomain blockingDomain;
    private Object owner;
    private int ownerCount;

    IommuGroup(int id) {
        this.id = id;
    }

    public int id() {
        return id;
    }

    public List<Device> devices() {
        return Collections.unmodifiableList(devices);
    }

    void addDevice(Device dev) {
        devices.add(dev);
    }

    /** {@code group->domain}: what translates requests without PASID now; null before any was attached. */
    public IommuDomain domain() {
        return domain;
    }

    void setDomain(IommuDomain d) {
        this.domain = d;
    }

    /** {@code group->default_domain}: the DMA or IDENTITY domain set up at probe; null when there is none. */
    public IommuDomain defaultDomain() {
        return defaultDomain;
    }

    void setDefaultDomain(IommuDomain d) {
        this.defaultDomain = d;
    }

    /** {@code group->blocking_domain}: set once needed (DMA ownership, detach); null until then. */
    public IommuDomain blockingDomain() {
        return blockingDomain;
    }

    void setBlockingDomain(IommuDomain d) {
        this.blockingDomain = d;
    }

    /** {@code group->owner}: who claimed the group's DMA (iommu_device_claim_dma_owner()), or null. */
    public Object dmaOwner() {
        return owner;
    }

    /** {@code group->owner_cnt}. */
    public int dmaOwnerCount() {
        return ownerCount;
    }

    void setOwner(Object newOwner, int count) {
        this.owner = newOwner;
        this.ownerCount = count;
    }

    Slot slot(int pasid) {
        return pasidArray.get(pasid);
    }

    AttachHandle handleAt(int pasid) {
        Slot s = pasidArray.get(pasid);
        return s == null ? null : s.handle();
    }

    void setSlot(int pasid, IommuDomain d, AttachHandle handle) {
        pasidArray.put(pasid, new Slot(d, handle));
    }

    void removeSlot(int pasid) {
        pasidArray.remove(pasid);
    }

    boolean pasidArrayEmpty() {
        return pasidArray.isEmpty();
    }

    /** A read-only view of the attach handles in the PASID array (entries attached without a handle left out). */
    public Map<Integer, AttachHandle> pasidArray() {
        Map<Integer, AttachHandle> view = new LinkedHashMap<>();
        pasidArray.forEach((pasid, s) -> {
            if (s.handle() != null) {
                view.put(pasid, s.handle());
            }
        });
        return Collections.unmodifiableMap(view);
    }

    /** What is attached at each PASID of the PASID array, with or without a handle. */
    public Map<Integer, IommuDomain> pasidDomains() {
        Map<Integer, IommuDomain> view = new LinkedHashMap<>();
        pasidArray.forEach((pasid, s) -> view.put(pasid, s.domain()));
        return Collections.unmodifiableMap(view);
    }

    @Override
    public String toString() {
        return "group " + id;
    }
}
