package dev.iommulab.vfio;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * {@code ictx->objects}: the context's allocating xarray of objects, ids from 1, the lowest free id first
 * ({@code XA_FLAGS_ALLOC1}). Counterparts of iommufd_object_finalize(), iommufd_get_object() and
 * iommufd_object_remove().
 */
final class ObjectTable {

    private final TreeMap<Integer, IommufdObject> objects = new TreeMap<>();

    /** Publishes {@code obj} under the lowest free id and returns it. */
    <T extends IommufdObject> T add(T obj) {
        int id = 1;
        for (int used : objects.keySet()) {
            if (used != id) {
                break;
            }
            id++;
        }
        obj.setId(id);
        objects.put(id, obj);
        return obj;
    }

    /**
     * iommufd_get_object(ictx, id, type).
     *
     * @throws KernelException ENOENT when no object has {@code id} or it is not a {@code type}
     */
    <T extends IommufdObject> T get(int id, Class<T> type, String arg) {
        IommufdObject obj = objects.get(id);
        if (!type.isInstance(obj)) {
            throw new KernelException(Errno.ENOENT, arg, obj == null ? "no object " + id
                    : obj + " is not a " + type.getSimpleName());
        }
        return type.cast(obj);
    }

    /** The object with {@code id}, or null. */
    IommufdObject find(int id) {
        return objects.get(id);
    }

    /**
     * iommufd_object_remove() as IOMMU_DESTROY uses it: the object leaves the table and is destroyed.
     *
     * @throws KernelException ENOENT for an unknown id; EBUSY while anything else holds it ({@code users} &gt; 1)
     */
    void destroy(int id) {
        IommufdObject obj = objects.get(id);
        if (obj == null) {
            throw new KernelException(Errno.ENOENT, "id", "no object " + id);
        }
        if (obj.users() > 1) {
            throw new KernelException(Errno.EBUSY, "id", obj + " is in use (" + (obj.users() - 1) + " references)");
        }
        objects.remove(id);
        obj.destroy();
    }

    /** Removes an object its owner destroys itself (an automatic domain, a device at unbind). */
    void forget(IommufdObject obj) {
        objects.remove(obj.id(), obj);
    }

    boolean contains(IommufdObject obj) {
        return objects.get(obj.id()) == obj;
    }

    /** Every object, by id. */
    List<IommufdObject> all() {
        return new ArrayList<>(objects.values());
    }
}
