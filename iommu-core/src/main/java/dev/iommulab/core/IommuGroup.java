package dev.iommulab.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code struct iommu_group}: devices that share translation, and the attach handle at each PASID
 * ({@code pasid_array}; {@link IommuCore#IOMMU_NO_PASID} is the RID).
 */
public final class IommuGroup {

    private final int id;
    private final List<Device> devices = new ArrayList<>();
    private final Map<Integer, AttachHandle> pasidArray = new TreeMap<>();

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

    AttachHandle handleAt(int pasid) {
        return pasidArray.get(pasid);
    }

    void setHandle(int pasid, AttachHandle handle) {
        pasidArray.put(pasid, handle);
    }

    void removeHandle(int pasid) {
        pasidArray.remove(pasid);
    }

    /** A read-only view of the PASID array. */
    public Map<Integer, AttachHandle> pasidArray() {
        return Collections.unmodifiableMap(pasidArray);
    }
}
